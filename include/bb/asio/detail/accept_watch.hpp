#pragma once
/// bb::asio_rt::detail::accept_watch: accepting on Asio's epoll reactor with accept4, so
/// that a new connection costs no FIONBIO ioctl (it is non-blocking from the start) and
/// no EPOLL_CTL_DEL when it closes (Asio makes one for any descriptor it was handed,
/// since it might be a dup of a registered one; an accepted descriptor never is).
///
/// Like read_watch, a reactor operation queued in the listener's read queue; its perform()
/// makes the accept4 call when the reactor reports the listener readable. It is queued
/// only after an accept4 found the listener drained, so the speculative perform() that
/// queueing may make is refused without a system call, and queueing makes none either
/// (fast/ only; BB_ASIO_FAST_PATH).

#include <bb/asio/detail/epoll_access.hpp>
#include <bb/asio/detail/owned_reactor_op.hpp>
#include <bb/asio/detail/unique_fd.hpp>

#include <sys/socket.h>

#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>

#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstring>
#include <system_error>
#include <utility>

namespace bb::asio_rt::detail {

/// One pending accept on a listener, reused from accept to accept.
class accept_watch final : public owned_reactor_op {
public:
  accept_watch() noexcept : owned_reactor_op(&perform_accept, &complete) {}

  /// One accept4 now: true when it settled (a descriptor or an error, see take_fd() and
  /// error()), false when no connection is waiting.
  bool try_accept(epoll_access::listener_type& a) {
    listener_ = a.native_handle();
    return attempt();
  }

  /// Queues the watch until a connection comes; `h` is resumed then, or with an error on
  /// cancellation or close. Call after try_accept() said false.
  void wait(epoll_access::listener_type& a, std::coroutine_handle<> h) {
    auto& impl = epoll_access::implementation(a);
    if (!reactor_) reactor_ = &epoll_access::reactor_of(a.get_executor());
    waiter_ = h;
    queued_ = true;
    starting_ = true;
    reactor_->start_op(epoll_access::reactor::read_op, impl.socket_, impl.reactor_data_, this, false, true);
    starting_ = false;
  }

  /// The settled accept's descriptor (none with an error), now the caller's.
  unique_fd take_fd() noexcept { return std::move(fd_); }
  /// The settled accept's error, if it failed.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }
  /// The settled accept's peer address.
  [[nodiscard]] ::asio::ip::tcp::endpoint peer() const {
    ::asio::ip::tcp::endpoint e;
    std::memcpy(e.data(), &peer_, peer_len_);
    e.resize(peer_len_);
    return e;
  }

private:
  /// accept4 on the listener: true when settled.
  bool attempt() noexcept {
    for (;;) {
      peer_len_ = sizeof peer_;
      const int fd =
          ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer_), &peer_len_, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        fd_.reset(fd);
        error_ = {};
        return true;
      }
      // A connection reset while it waited in the backlog is no error of the listener's.
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      error_ = std::error_code(errno, std::system_category());
      return true;
    }
  }

  static status perform_accept(reactor_op* base) noexcept {
    auto* w = static_cast<accept_watch*>(base);
    // Queued right after an accept4 found the listener drained: nothing to try yet.
    if (w->starting_) return not_done;
    return w->attempt() ? done : not_done;
  }

  static void complete(void* owner, ::asio::detail::operation* base, const std::error_code&, std::size_t) {
    auto* w = static_cast<accept_watch*>(base);
    const auto orphan = adopt_orphan(w);  // frees the watch, and closes what it accepted, on return
    const std::error_code ec = std::exchange(w->ec_, std::error_code());
    if (orphan) return;                 // the acceptor is gone
    if (!owner) return w->fd_.reset();  // the io_context is being destroyed
    if (ec) {
      w->fd_.reset();
      w->error_ = ec == ::asio::error::operation_aborted ? std::make_error_code(std::errc::operation_canceled) : ec;
    }
    if (w->waiter_) std::exchange(w->waiter_, {}).resume();
  }

  epoll_access::reactor* reactor_ = nullptr;
  int listener_ = -1;
  unique_fd fd_;
  std::error_code error_;
  sockaddr_storage peer_{};
  socklen_t peer_len_ = 0;
  bool starting_ = false;  // inside start_op: a speculative perform() must not accept
};

}  // namespace bb::asio_rt::detail
