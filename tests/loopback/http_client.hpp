#pragma once
// The loopback tests' HTTP client: one keep-alive connection, blocking, every wait
// bounded by io_timeout. Requests carry `x-sent-by: balancebeam-tests` as in CS110L.

#include "http_wire.hpp"
#include "socket.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bb_test {

/// One response as the client read it.
struct http_response {
  std::string status_line;  ///< without CRLF
  int status = 0;
  header_fields fields;
  std::string body;

  [[nodiscard]] std::optional<std::string> header(std::string_view name) const { return find_field(fields, name); }
};

/// A client connection to 127.0.0.1:port.
class http_client {
public:
  explicit http_client(std::uint16_t port) : s_(try_connect(port)), reader_(s_.get()) {
    if (!s_) throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }

  /// Sends bytes as they are (malformed or pipelined requests).
  void send_raw(std::string_view bytes) { send_all(s_.get(), bytes); }

  /// The request bytes the test suite sends: Host, x-sent-by, and Content-Length when
  /// there is a body or the method is POST.
  static std::string format(std::string_view method, std::string_view path, std::string_view body = {},
                            std::string_view extra_fields = {}) {
    std::string r;
    r.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
    r.append("Host: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n");
    if (!body.empty() || method == "POST")
      r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    r.append(extra_fields);
    r.append("\r\n");
    r.append(body);
    return r;
  }

  /// Reads the next response; throws when the connection ends first.
  http_response read_response(bool head_request = false) {
    for (;;) {
      const auto raw = reader_.read_through("\r\n\r\n");
      if (!raw) throw std::runtime_error("connection closed instead of a response");
      auto head = parse_head(*raw);
      http_response r;
      r.status_line = head.first_line;
      if (r.status_line.size() < 12 || r.status_line.compare(0, 5, "HTTP/") != 0)
        throw std::runtime_error("not a status line: '" + r.status_line + "'");
      r.status = std::stoi(r.status_line.substr(9, 3));
      r.fields = std::move(head.fields);
      if (r.status < 200) continue;  // interim response
      std::size_t length = 0;
      const auto f = framing_of(r.fields, true, length);
      if (!head_request && r.status != 204 && r.status != 304) r.body = read_body(reader_, f, length);
      return r;
    }
  }

  /// Sends one request and reads its response.
  http_response request(std::string_view method, std::string_view path, std::string_view body = {},
                        std::string_view extra_fields = {}) {
    send_raw(format(method, path, body, extra_fields));
    return read_response(method == "HEAD");
  }
  http_response get(std::string_view path) { return request("GET", path); }
  http_response post(std::string_view path, std::string_view body) { return request("POST", path, body); }

  /// True when the server closes the connection (orderly) within io_timeout, with
  /// nothing more sent.
  bool closed_by_peer() { return reader_.closed_by_peer(); }

private:
  unique_fd s_;
  wire_reader reader_;
};

}  // namespace bb_test
