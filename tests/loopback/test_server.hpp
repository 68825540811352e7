#pragma once
// A loopback TCP server for the tests' upstreams: blocking sockets, a thread per
// connection running the owner's handler. It can be stopped (the listener and every open
// connection close) and started again on the same address.

#include "socket.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bb_test {

class test_server {
public:
  /// Serves one accepted connection until it returns or throws; the server closes it.
  using handler = std::function<void(int fd)>;

  /// Starts listening on `port` (0: a port the kernel picks) and serving with `serve`.
  explicit test_server(handler serve, std::uint16_t port = 0) : serve_(std::move(serve)) {
    listener_ = listen_on(port);
    port_ = local_port(listener_.get());
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;
  ~test_server() { stop(); }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "127.0.0.1:port", as passed to --upstream.
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// Closes the listener and every open connection, and waits for their threads.
  void stop() {
    if (!acceptor_.joinable()) return;
    stopping_ = true;
    acceptor_.join();
    listener_.reset();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(m_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // wakes the blocked recv or send
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
      threads_.emplace_back([this, fd] { run(fd); });
    }
  }

  void run(int fd) {
    try {
      set_timeouts(fd, std::chrono::seconds(60));  // the tests bound their own waits
      serve_(fd);
    } catch (const std::exception&) {
      // The peer went away or stop() shut the socket: the connection just ends.
    }
    std::lock_guard lock(m_);  // close under the lock, so stop() never shuts a reused number
    open_.erase(fd);
    ::close(fd);
  }

  handler serve_;
  unique_fd listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex m_;
  std::set<int> open_;
  std::vector<std::thread> threads_;
};

}  // namespace bb_test
