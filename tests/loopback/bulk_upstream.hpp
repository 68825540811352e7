#pragma once
// An upstream for the streaming tests, on a test_server: it sends and takes bodies far
// larger than memory should hold, built from and checked against bulk_pattern.
//
// - GET /length/N:  200 with N pattern bytes, Content-Length framed.
// - GET /chunked/N: 200 with N pattern bytes, chunked.
// - anything else:  its body is read and checked as it arrives, and the answer is 200
//                   with bulk_checker::summary() and a newline.

#include "bulk_body.hpp"
#include "http_wire.hpp"
#include "test_server.hpp"

#include <cstdint>
#include <string>

namespace bb_test {

class bulk_upstream {
public:
  bulk_upstream() : server_([this](int fd) { serve(fd); }) {}

  /// "127.0.0.1:port", as passed to --upstream.
  [[nodiscard]] std::string address() const { return server_.address(); }

private:
  static void serve(int fd) {
    wire_reader in(fd);
    for (;;) {
      const auto raw = in.read_through("\r\n\r\n");
      if (!raw) return;
      const auto head = parse_head(*raw);
      const auto target = head.first_line.substr(head.first_line.find(' ') + 1);
      const auto path = target.substr(0, target.find(' '));

      std::size_t length = 0;
      const auto f = framing_of(head.fields, false, length);
      bulk_checker body;
      read_bulk_body(in, f, length, body);

      respond(fd, path, body);
    }
  }

  static void respond(int fd, const std::string& path, const bulk_checker& body) {
    for (const bool chunked : {false, true}) {
      const std::string prefix = chunked ? "/chunked/" : "/length/";
      if (path.rfind(prefix, 0) != 0) continue;
      const auto n = std::stoull(path.substr(prefix.size()));
      send_all(fd, chunked ? std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                           : "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n");
      send_bulk_body(fd, n, chunked);
      return;
    }
    const auto answer = body.summary() + "\n";
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(answer.size()) +
                     "\r\n\r\n" + answer);
  }

  test_server server_;
};

}  // namespace bb_test
