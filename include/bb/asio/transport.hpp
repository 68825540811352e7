#pragma once
/// bb::asio_rt::tcp_transport: the transport concept on kernel TCP sockets through Asio.
///
/// Each worker thread owns an io_context and one transport over it. Listeners set
/// SO_REUSEPORT so that every worker can bind the same address and the kernel spreads
/// connections across them (shared-nothing workers).
///
/// Streams and listeners come in two implementations: the fast path (fast/), which reaches
/// into Asio 1.22.1's epoll reactor to save system calls, and the portable one (portable/),
/// on Asio's public API, for any Asio version and backend. BB_ASIO_FAST_PATH=1 chooses the
/// first (CMake: -DBB_ASIO_FAST_PATH=ON, the default there, which checks the Asio version);
/// without it, the portable one. The two live in namespaces of their own, so translation
/// units built with different choices name different types instead of breaking the ODR.

#include <sys/socket.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <bb/asio/detail/io_awaiter.hpp>
#include <bb/asio/endpoint.hpp>
#include <bb/asio/portable/tcp_acceptor.hpp>
#include <bb/asio/portable/tcp_stream.hpp>
#include <bb/asio/socket_types.hpp>
#include <bb/core/net.hpp>
#include <bb/core/result.hpp>
#include <bb/core/transport.hpp>

#if BB_ASIO_FAST_PATH
#include <bb/asio/fast/tcp_acceptor.hpp>
#include <bb/asio/fast/tcp_stream.hpp>
#endif

#include <coroutine>
#include <system_error>
#include <utility>

namespace bb::asio_rt {

/// Listens and connects on one io_context, with streams of type `Stream` (constructible
/// from a connected socket_type) and listeners of type `Acceptor` (from a listening
/// acceptor_type).
template <class Stream, class Acceptor>
class basic_tcp_transport {
public:
  using stream = Stream;
  using acceptor = Acceptor;

  /// A transport whose sockets run on `ctx`.
  explicit basic_tcp_transport(::asio::io_context& ctx) noexcept : ctx_(&ctx) {}

  /// Binds `ep` with SO_REUSEADDR and SO_REUSEPORT and listens.
  result<Acceptor> listen(const endpoint& ep) {
    acceptor_type a(*ctx_);
    std::error_code ec;
    auto e = to_asio(ep);
    using reuse_port = ::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    a.open(e.protocol(), ec);
    if (!ec) a.set_option(::asio::socket_base::reuse_address(true), ec);
    if (!ec) a.set_option(reuse_port(true), ec);
    if (!ec) a.bind(e, ec);
    if (!ec) a.listen(::asio::socket_base::max_listen_connections, ec);
    if (ec) return ec;
    return Acceptor(std::move(a));
  }

  /// Connects to `ep` (TCP_NODELAY set on success).
  struct connect_awaiter : detail::io_awaiter_base<socket_type, std::error_code> {
    socket_type sock_;
    ::asio::ip::tcp::endpoint to_;
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      this->io_ = &sock_;
      sock_.async_connect(to_, [this, h](std::error_code ec) {
        this->r_ = detail::normalize(ec);
        h.resume();
      });
      this->arm(h);
    }
    result<Stream> await_resume() {
      this->cancel_.reset();
      if (this->r_) return this->r_;
      std::error_code ec;
      sock_.set_option(::asio::ip::tcp::no_delay(true), ec);
      return Stream(std::move(sock_));
    }
  };
  /// See connect_awaiter.
  connect_awaiter connect(const endpoint& ep) {
    return connect_awaiter{{nullptr, {}, {}}, socket_type(*ctx_), to_asio(ep)};
  }

private:
  ::asio::io_context* ctx_;
};

static_assert(bb::transport<basic_tcp_transport<portable::tcp_stream, portable::tcp_acceptor>>);

#if BB_ASIO_FAST_PATH
static_assert(bb::transport<basic_tcp_transport<fast::tcp_stream, fast::tcp_acceptor>>);
/// The configured stream: the fast path's.
using tcp_stream = fast::tcp_stream;
/// The configured listener: the fast path's.
using tcp_acceptor = fast::tcp_acceptor;
#else
/// The configured stream: the portable one.
using tcp_stream = portable::tcp_stream;
/// The configured listener: the portable one.
using tcp_acceptor = portable::tcp_acceptor;
#endif

/// The configured transport (BB_ASIO_FAST_PATH chooses).
using tcp_transport = basic_tcp_transport<tcp_stream, tcp_acceptor>;

}  // namespace bb::asio_rt
