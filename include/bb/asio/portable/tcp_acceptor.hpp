#pragma once
/// bb::asio_rt::portable::tcp_acceptor: the acceptor_of concept on Asio's public API
/// (async_accept), for any Asio version and backend.
///
/// What the public API costs on epoll against the fast path (fast/tcp_acceptor.hpp): Asio
/// accepts with accept(), so the new socket is made non-blocking with one more call
/// (FIONBIO), and closing a socket Asio was handed unregisters it with EPOLL_CTL_DEL.

#include <asio/ip/tcp.hpp>
#include <bb/asio/detail/io_awaiter.hpp>
#include <bb/asio/endpoint.hpp>
#include <bb/asio/portable/tcp_stream.hpp>
#include <bb/asio/socket_types.hpp>
#include <bb/core/result.hpp>
#include <bb/core/transport.hpp>

#include <coroutine>
#include <optional>
#include <system_error>
#include <utility>

namespace bb::asio_rt::portable {

/// A listening TCP socket on Asio's public API; see bb::acceptor_of for the contract.
class tcp_acceptor {
public:
  /// Takes a socket that listens already.
  explicit tcp_acceptor(acceptor_type a) noexcept : a_(std::move(a)) {}

  /// The next connection and its peer address (TCP_NODELAY set before its second write).
  struct accept_awaiter : detail::io_awaiter_base<acceptor_type, std::error_code> {
    std::optional<socket_type> sock_;
    ::asio::ip::tcp::endpoint peer_;  // filled by accept itself: no getpeername call
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      this->io_->async_accept(peer_, [this, h](std::error_code ec, socket_type s) {
        this->r_ = detail::normalize(ec);
        if (!ec) sock_.emplace(std::move(s));
        h.resume();
      });
      this->arm(h);
    }
    result<accepted<tcp_stream>> await_resume() {
      this->cancel_.reset();
      if (this->r_) return this->r_;
      return accepted<tcp_stream>{tcp_stream(std::move(*sock_), tcp_stream::accepted_t{}), from_asio(peer_)};
    }
  };
  /// See accept_awaiter.
  accept_awaiter accept() noexcept { return accept_awaiter{{&a_, {}, {}}, {}, {}}; }

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
};

static_assert(bb::acceptor_of<tcp_acceptor, tcp_stream>);

}  // namespace bb::asio_rt::portable
