#pragma once
// The CS110L test upstreams, in process: blocking sockets, a thread per connection.
//
// - echo:  200; body = "METHOD URI HTTP/1.1\n", one "name: value\n" per request field
//          (name lower-cased), "\n", then the request body (a chunked body decoded).
// - error: 500 with an empty body.
// Both count the requests they received, and can be stopped (the listener and every
// open connection close) and started again on the same address.

#include "http_wire.hpp"
#include "socket.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace bb_test {

class test_upstream {
 public:
  enum class kind { echo, error };

  /// Starts listening on a port the kernel picks.
  explicit test_upstream(kind k = kind::echo) : kind_(k) {
    listener_ = listen_on(0);
    port_ = local_port(listener_.get());
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  test_upstream(const test_upstream&) = delete;
  test_upstream& operator=(const test_upstream&) = delete;
  ~test_upstream() { stop(); }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "127.0.0.1:port", as passed to --upstream.
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// Requests received (whole heads and bodies) since construction.
  [[nodiscard]] std::size_t requests() const noexcept { return requests_.load(); }

  /// Closes the listener and every open connection, and waits for their threads.
  void stop() {
    if (!acceptor_.joinable()) return;
    stopping_ = true;
    acceptor_.join();
    listener_.reset();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(m_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // wakes the blocked recv
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  /// Listens again on the same address after stop().
  void start() {
    if (acceptor_.joinable()) return;
    listener_ = listen_on(port_);
    stopping_ = false;
    acceptor_ = std::thread([this] { accept_loop(); });
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;  // wakes regularly to notice stop()
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(m_);
      open_.insert(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    try {
      set_timeouts(fd, std::chrono::seconds(60));  // the tests bound their own waits
      wire_reader in(fd);
      for (;;) {
        const auto raw = in.read_through("\r\n\r\n");
        if (!raw) break;
        const auto head = parse_head(*raw);
        std::size_t length = 0;
        const auto f = framing_of(head.fields, false, length);
        const auto body = read_body(in, f, length);
        ++requests_;
        send_all(fd, respond(head, body));
        const auto conn = find_field(head.fields, "connection");
        if (conn && lower(*conn) == "close") break;
      }
    } catch (const std::exception&) {
      // The peer went away or stop() shut the socket: the connection just ends.
    }
    std::lock_guard lock(m_);  // close under the lock, so stop() never shuts a reused number
    open_.erase(fd);
    ::close(fd);
  }

  std::string respond(const message_head& head, const std::string& body) const {
    if (kind_ == kind::error) return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
    // The request line as the echo server saw it: method and URI, then the version.
    const auto sp1 = head.first_line.find(' ');
    const auto sp2 = head.first_line.rfind(' ');
    std::string echo = head.first_line.substr(0, sp1) + ' ' + head.first_line.substr(sp1 + 1, sp2 - sp1 - 1) +
                       " HTTP/1.1\n";
    for (const auto& [n, v] : head.fields) echo += lower(n) + ": " + v + "\n";
    echo += "\n" + body;
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(echo.size()) +
           "\r\n\r\n" + echo;
  }

  kind kind_;
  unique_fd listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> requests_{0};
  std::thread acceptor_;
  std::mutex m_;
  std::set<int> open_;
  std::vector<std::thread> threads_;
};

}  // namespace bb_test
