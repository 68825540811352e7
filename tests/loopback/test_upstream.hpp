#pragma once
// The CS110L test upstreams, in process, on a test_server:
//
// - echo:  200; body = "METHOD URI HTTP/1.1\n", one "name: value\n" per request field
//          (name lower-cased), "\n", then the request body (a chunked body decoded).
// - error: 500 with an empty body.
// Both count the requests they received, and can be stopped (the listener and every
// open connection close) and started again on the same address; a new upstream of the
// other kind may also take over a stopped one's address.

#include "http_wire.hpp"
#include "test_server.hpp"

#include <atomic>
#include <cstdint>
#include <string>

namespace bb_test {

class test_upstream {
public:
  enum class kind { echo, error };

  /// Starts listening on `port`; 0: a port the kernel picks.
  explicit test_upstream(kind k = kind::echo, std::uint16_t port = 0)
      : kind_(k), server_([this](int fd) { serve(fd); }, port) {}

  [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
  /// "127.0.0.1:port", as passed to --upstream.
  [[nodiscard]] std::string address() const { return server_.address(); }
  /// Requests received (whole heads and bodies) since construction.
  [[nodiscard]] std::size_t requests() const noexcept { return requests_.load(); }
  /// Requests that carried `x-sent-by: balancebeam-tests`: the suite's own, forwarded by
  /// the proxy, as opposed to the proxy's active health checks.
  [[nodiscard]] std::size_t client_requests() const noexcept { return client_requests_.load(); }

  /// Closes the listener and every open connection, and waits for their threads.
  void stop() { server_.stop(); }
  /// Listens again on the same address after stop().
  void start() { server_.start(); }

private:
  void serve(int fd) {
    each_request(fd, [&](const upstream_request& r, wire_reader& in) {
      const auto body = r.read_body(in);
      ++requests_;
      if (find_field(r.head.fields, "x-sent-by") == "balancebeam-tests") ++client_requests_;
      send_all(fd, respond(r.head, body));
      const auto conn = find_field(r.head.fields, "connection");
      return !(conn && lower(*conn) == "close");
    });
  }

  std::string respond(const message_head& head, const std::string& body) const {
    if (kind_ == kind::error) return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
    // The request line as the echo server saw it: method and URI, then the version.
    const auto sp1 = head.first_line.find(' ');
    const auto sp2 = head.first_line.rfind(' ');
    std::string echo =
        head.first_line.substr(0, sp1) + ' ' + head.first_line.substr(sp1 + 1, sp2 - sp1 - 1) + " HTTP/1.1\n";
    for (const auto& [n, v] : head.fields) echo += lower(n) + ": " + v + "\n";
    echo += "\n" + body;
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(echo.size()) +
           "\r\n\r\n" + echo;
  }

  kind kind_;
  std::atomic<std::size_t> requests_{0};
  std::atomic<std::size_t> client_requests_{0};
  test_server server_;  // last: its threads stop before the members they use go
};

}  // namespace bb_test
