#pragma once
/// bb::asio_rt::detail::accept_watch: accepting on Asio's epoll reactor with accept4, so
/// that a new connection costs no FIONBIO ioctl (it is non-blocking from the start) and
/// no EPOLL_CTL_DEL when it closes (Asio makes one for any descriptor it was handed,
/// since it might be a dup of a registered one; an accepted descriptor never is).
///
/// Like read_watch, a reactor operation queued in the listener's read queue; its perform()
/// makes the accept4 call when the reactor reports the listener readable. A listener found
/// drained (EAGAIN) clears the descriptor's speculative flag before the operation is
/// queued, so queueing makes no system call either (fast/ only; BB_ASIO_FAST_PATH).

#include <bb/asio/detail/read_watch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>

#include <cerrno>
#include <coroutine>
#include <cstring>
#include <system_error>
#include <utility>

namespace bb::asio_rt::detail {

/// The listener type of tcp_transport.
using listener_type = ::asio::basic_socket_acceptor<::asio::ip::tcp, ::asio::io_context::executor_type>;

namespace {
// basic_socket_acceptor keeps its implementation private (basic_socket protects it).
struct acceptor_impl_tag {
  using type = ::asio::detail::io_object_impl<::asio::detail::reactive_socket_service<::asio::ip::tcp>,
                                              ::asio::io_context::executor_type> listener_type::*;
  friend constexpr type stolen(acceptor_impl_tag) noexcept;
};
template struct member_thief<&listener_type::impl_, acceptor_impl_tag>;
}  // namespace

/// One pending accept on a listener, reused from accept to accept.
class accept_watch final : public owned_reactor_op {
 public:
  accept_watch() noexcept : owned_reactor_op(&perform_accept, &complete) {}

  /// One accept4 now: true when it settled (a descriptor or an error, see result()), false
  /// when no connection is waiting.
  bool try_accept(listener_type& a) {
    listener_ = a.native_handle();
    return attempt();
  }

  /// Queues the watch until a connection comes; `h` is resumed then, or with an error on
  /// cancellation or close. Call after try_accept() said false.
  void wait(listener_type& a, std::coroutine_handle<> h) {
    auto& impl = (a.*stolen(acceptor_impl_tag{})).get_implementation();
    auto* reactor =
        &::asio::use_service<::asio::detail::reactor>(::asio::query(a.get_executor(), ::asio::execution::context));
    waiter_ = h;
    queued_ = true;
    // try_accept() just found the listener drained: no speculative attempt, no epoll_ctl.
    if (impl.reactor_data_) (impl.reactor_data_->*stolen(try_speculative_tag{}))[::asio::detail::reactor::read_op] = false;
    reactor->start_op(::asio::detail::reactor::read_op, impl.socket_, impl.reactor_data_, this, false, true);
  }

  /// The settled accept: the new descriptor (-1 with an error) and the peer's address.
  int take_fd() noexcept { return std::exchange(fd_, -1); }
  [[nodiscard]] std::error_code error() const noexcept { return error_; }
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
      const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer_), &peer_len_, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        fd_ = fd;
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
    return w->attempt() ? done : not_done;
  }

  static void complete(void* owner, ::asio::detail::operation* base, const std::error_code&, std::size_t) {
    auto* w = static_cast<accept_watch*>(base);
    w->queued_ = false;
    const std::error_code ec = std::exchange(w->ec_, std::error_code());
    if (w->orphaned_ || !owner) {  // the acceptor is gone, or the io_context is being destroyed
      if (w->fd_ >= 0) ::close(w->take_fd());
      if (w->orphaned_) delete w;
      return;
    }
    if (ec) {
      if (w->fd_ >= 0) ::close(w->take_fd());
      w->error_ = ec == ::asio::error::operation_aborted ? std::make_error_code(std::errc::operation_canceled) : ec;
    }
    if (w->waiter_) std::exchange(w->waiter_, {}).resume();
  }

  int listener_ = -1;
  int fd_ = -1;
  std::error_code error_;
  sockaddr_storage peer_{};
  socklen_t peer_len_ = 0;
};

}  // namespace bb::asio_rt::detail
