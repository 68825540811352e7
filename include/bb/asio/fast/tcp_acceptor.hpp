#pragma once
/// bb::asio_rt::fast::tcp_acceptor: the acceptor_of concept on Asio 1.22.1's epoll
/// reactor, accepting with accept4 (detail/accept_watch.hpp; BB_ASIO_FAST_PATH): a new
/// connection is non-blocking from the start and is closed without an EPOLL_CTL_DEL.

#include <bb/asio/detail/accept_watch.hpp>
#include <bb/asio/detail/epoll_access.hpp>
#include <bb/asio/detail/io_awaiter.hpp>
#include <bb/asio/detail/owned_reactor_op.hpp>
#include <bb/asio/detail/unique_fd.hpp>
#include <bb/asio/endpoint.hpp>
#include <bb/asio/fast/tcp_stream.hpp>
#include <bb/asio/socket_types.hpp>

#include <bb/core/result.hpp>
#include <bb/core/transport.hpp>

#include <coroutine>
#include <system_error>
#include <utility>

namespace bb::asio_rt::fast {

/// A listening TCP socket that accepts with accept4; see bb::acceptor_of for the contract.
class tcp_acceptor {
public:
  /// Takes a socket that listens already, and makes it non-blocking: accept4 is tried
  /// directly and must never block.
  explicit tcp_acceptor(acceptor_type a) noexcept : a_(std::move(a)) {
    std::error_code ec;
    a_.non_blocking(true, ec);
  }

  /// The next connection and its peer address, accepted non-blocking with accept4;
  /// TCP_NODELAY is set before its second write.
  struct accept_awaiter : detail::io_awaiter_base<acceptor_type, std::error_code> {
    detail::accept_watch* watch_;
    bool await_ready() { return watch_->try_accept(*this->io_); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      watch_->wait(*this->io_, h);
      this->arm(h);
    }
    result<accepted<tcp_stream>> await_resume() {
      this->cancel_.reset();
      auto fd = watch_->take_fd();
      if (!fd) return watch_->error() ? watch_->error() : std::make_error_code(std::errc::operation_canceled);
      const auto peer = watch_->peer();
      socket_type s(this->io_->get_executor());
      std::error_code ec;
      s.assign(peer.protocol(), fd.get(), ec);  // registers it with the reactor
      if (ec) return ec;
      (void)fd.release();  // the socket's now
      // accept4 made it non-blocking: tell Asio, so that nobody makes it so again.
      detail::epoll_access::socket_impl_access<socket_type>::of(s).state_ |= ::asio::detail::socket_ops::non_blocking;
      return accepted<tcp_stream>{tcp_stream(std::move(s), tcp_stream::accepted_t{}), from_asio(peer)};
    }
  };
  /// See accept_awaiter.
  accept_awaiter accept() noexcept { return accept_awaiter{{&a_, {}, {}}, watch_.get()}; }

  /// Stops listening; a pending accept finishes with an error.
  void close() noexcept {
    std::error_code ec;
    a_.close(ec);
  }
  /// The bound address (with the port the kernel chose for port 0).
  [[nodiscard]] endpoint local_endpoint() const {
    std::error_code ec;
    return from_asio(a_.local_endpoint(ec));
  }

private:
  acceptor_type a_;
  // Destroyed before the listener: a queued watch is orphaned, and the close that follows
  // aborts it, so its completion frees it.
  detail::owned_op<detail::accept_watch> watch_ = detail::make_owned_op<detail::accept_watch>();
};

static_assert(bb::acceptor_of<tcp_acceptor, tcp_stream>);

}  // namespace bb::asio_rt::fast
