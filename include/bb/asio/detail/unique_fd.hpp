#pragma once
/// bb::asio_rt::detail::unique_fd: sole ownership of a raw file descriptor, closed on
/// destruction, for the moments before a descriptor is handed to an Asio socket.

#include <unistd.h>

#include <utility>

namespace bb::asio_rt::detail {

/// Owns one file descriptor (or none: -1) and closes it when destroyed or reset.
class unique_fd {
public:
  unique_fd() noexcept = default;
  /// Takes ownership of `fd` (-1 for none).
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~unique_fd() { reset(); }

  /// The descriptor, still owned; -1 for none.
  [[nodiscard]] int get() const noexcept { return fd_; }
  /// True when a descriptor is owned.
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Gives the descriptor up without closing it.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  /// Closes the owned descriptor, if any, and owns `fd` instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

}  // namespace bb::asio_rt::detail
