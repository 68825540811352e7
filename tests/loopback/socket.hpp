#pragma once
// Blocking loopback sockets for the loopback tests: an owning descriptor, connecting with
// timeouts, and reserving a free port for a child process to bind.
//
// Every descriptor is created close-on-exec: a listener inherited by a spawned proxy
// would keep accepting after the test closed it, and a stopped upstream would not look
// down to the proxy.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace bb_test {

/// How long any single blocking socket operation of a test may wait.
inline constexpr std::chrono::milliseconds io_timeout{5000};

/// An owned file descriptor, closed by the destructor.
class unique_fd {
public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

/// "what: strerror(errno)" as an exception, for failures that end a test.
[[noreturn]] inline void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

inline sockaddr_in loopback_address(std::uint16_t port) noexcept {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/// Bounds blocking reads and writes (and a blocking connect) on `fd` by `t`.
inline void set_timeouts(int fd, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(t.count() % 1000 * 1000);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    throw_errno("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)");
}

/// A TCP socket connected to 127.0.0.1:`port`, or an empty descriptor when refused.
inline unique_fd try_connect(std::uint16_t port, std::chrono::milliseconds timeout = io_timeout) {
  unique_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("socket");
  set_timeouts(s.get(), timeout);
  const auto a = loopback_address(port);
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) return {};
  const int one = 1;
  ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

/// The port `fd` is bound to.
inline std::uint16_t local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) throw_errno("getsockname");
  return ntohs(a.sin_port);
}

/// A listening socket on 127.0.0.1:`port` (0: the kernel picks), with SO_REUSEADDR so a
/// test server can be restarted on the address it had.
inline unique_fd listen_on(std::uint16_t port) {
  unique_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("socket");
  const int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const auto a = loopback_address(port);
  if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
    throw_errno("bind 127.0.0.1:" + std::to_string(port));
  if (::listen(s.get(), 128) != 0) throw_errno("listen");
  return s;
}

/// A free loopback port, held bound (not listening) for as long as this object lives.
///
/// Binding port 0 and closing at once would leave a window in which a concurrently
/// running test may be given the same port. Instead the port stays bound with
/// SO_REUSEADDR: bind(0) elsewhere will not hand it out, while a server that also sets
/// SO_REUSEADDR (balancebeam and origin do) may still bind and listen on it. Connections
/// are refused until that server listens, since this socket never does.
class port_reservation {
public:
  port_reservation() : s_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (!s_) throw_errno("socket");
    const int one = 1;
    ::setsockopt(s_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const auto a = loopback_address(0);
    if (::bind(s_.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) throw_errno("bind 127.0.0.1:0");
    port_ = local_port(s_.get());
  }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "127.0.0.1:port".
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
  unique_fd s_;
  std::uint16_t port_ = 0;
};

/// Writes all of `data` or throws (a timeout included).
inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("send");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace bb_test
