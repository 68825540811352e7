#pragma once
/// bb::asio_rt::tcp_transport: the transport concept on kernel TCP sockets through Asio.
///
/// Each worker thread owns an io_context and one transport over it. Listeners set
/// SO_REUSEPORT so that every worker can bind the same address and the kernel spreads
/// connections across them (shared-nothing workers).

#include <sys/socket.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/ip/tcp.hpp>
#include <bb/asio/detail/accept_watch.hpp>
#include <bb/asio/detail/inline_reads.hpp>
#include <bb/asio/detail/io_awaiter.hpp>
#include <bb/asio/detail/read_watch.hpp>
#include <bb/asio/detail/write_awaiter.hpp>
#include <bb/asio/endpoint.hpp>
#include <bb/asio/socket_types.hpp>
#include <bb/core/cancel.hpp>
#include <bb/core/error.hpp>
#include <bb/core/net.hpp>
#include <bb/core/result.hpp>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>
#include <coroutine>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

namespace bb::asio_rt {

/// A connected TCP stream; see bb::byte_stream for the contract.
class tcp_stream {
 public:
  struct accepted_t {};

  explicit tcp_stream(socket_type s) : s_(std::move(s)) {
    // Once, here: reads and writes try the socket directly before they involve the loop.
    std::error_code ec;
    if (!s_.non_blocking()) s_.non_blocking(true, ec);
  }
  /// A socket accepted (non-blocking already, when accept set it so) and registered with
  /// the reactor in this turn of the loop. TCP_NODELAY is set before its second write:
  /// a first write never waits on Nagle's algorithm (nothing is in flight), and a
  /// connection that closes after one response, the common case, saves the call.
  tcp_stream(socket_type s, accepted_t) : tcp_stream(std::move(s)) {
    nodelay_later_ = true;
#if BB_ASIO_READ_WATCH
    // Fresh from accept, the descriptor is no dup of a registered one: closing it removes
    // it from epoll, and Asio need not make an EPOLL_CTL_DEL first.
    detail::socket_impl_access<socket_type>::of(s_).state_ &= ~::asio::detail::socket_ops::possible_dup;
    watch_->fresh(s_);
#endif
  }
#if BB_ASIO_READ_WATCH
  tcp_stream(tcp_stream&& o) noexcept
      : s_(std::move(o.s_)), watch_(std::exchange(o.watch_, nullptr)), nodelay_later_(o.nodelay_later_),
        wrote_(o.wrote_) {}
  tcp_stream& operator=(tcp_stream&& o) noexcept {
    if (this != &o) {
      detail::read_watch::release(watch_);  // before the socket closes and aborts it
      s_ = std::move(o.s_);
      watch_ = std::exchange(o.watch_, nullptr);
      nodelay_later_ = o.nodelay_later_;
      wrote_ = o.wrote_;
    }
    return *this;
  }
  ~tcp_stream() { detail::read_watch::release(watch_); }

  /// Reads at least one byte into `buf`; 0 bytes with bb::errc::eof at orderly close. An
  /// empty `buf` waits until the socket is readable and reads nothing. A socket known to be
  /// drained is not tried; a wait costs no system call (see detail/read_watch.hpp). A
  /// cancelled read ends with operation_canceled (resumed through the executor) and leaves
  /// the socket's watch and its other operations alone.
  struct read_awaiter {
    /// Ends a pending read on cancellation: the watch lets go of the reader, which is
    /// resumed from the event loop, never inline.
    struct detacher {
      read_awaiter* a_;
      std::coroutine_handle<> h_;
      void operator()() const noexcept {
        if (!a_->watch_->detach(h_)) return;  // not waiting yet: a deferred read sees the token
        a_->r_ = {std::make_error_code(std::errc::operation_canceled), 0};
        ::asio::post(a_->io_->get_executor(), [h = h_] { h.resume(); });
      }
    };
    socket_type* io_;
    std::span<char> buf_;
    detail::read_watch* watch_;
    io_result r_{};
    std::optional<bb::cancel_callback<detacher>> cancel_;
    bool deferred_ = false;

    bool await_ready() {
      // Past the budget of inline reads in a row, the read goes through the loop.
      if (detail::inline_budget_spent()) return !(deferred_ = true);
      r_ = watch_->try_read(*io_, buf_);
      return r_.ec != std::errc::operation_would_block;
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      detail::inline_budget_reset();
      const auto token = bb::detail::token_of(h);
      if (deferred_) {
        ::asio::post(io_->get_executor(), [this, h, token] {
          if (token.stop_requested()) {
            r_ = {std::make_error_code(std::errc::operation_canceled), 0};
            return h.resume();
          }
          r_ = watch_->try_read(*io_, buf_);
          if (r_.ec != std::errc::operation_would_block) return h.resume();
          watch_->arm(*io_);
          watch_->wait(h, buf_, &r_);
        });
      } else {
        watch_->arm(*io_);
        watch_->wait(h, buf_, &r_);
      }
      // Registered after the wait: a token already stopped must find a reader to detach.
      cancel_.emplace(token, detacher{this, h});
    }
    io_result await_resume() noexcept {
      cancel_.reset();
      return r_;
    }
  };
  read_awaiter read_some(std::span<char> buf) noexcept { return read_awaiter{&s_, buf, watch_, {}, {}}; }
#else
  tcp_stream(tcp_stream&&) noexcept = default;
  tcp_stream& operator=(tcp_stream&&) noexcept = default;

  /// Reads at least one byte into `buf`; 0 bytes with bb::errc::eof at orderly close. An
  /// empty `buf` waits until the socket is readable and reads nothing.
  struct read_awaiter : detail::io_awaiter_base<socket_type, io_result> {
    std::span<char> buf_;
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      if (buf_.empty()) {
        // A zero-length read waits for readability without a buffer (idle connections).
        this->io_->async_wait(::asio::socket_base::wait_read, [this, h](std::error_code ec) {
          this->r_ = {detail::normalize(ec), 0};
          h.resume();
        });
        this->arm(h);
        return;
      }
      this->io_->async_read_some(::asio::buffer(buf_.data(), buf_.size()),
                                 [this, h](std::error_code ec, std::size_t n) {
                                   this->r_ = {detail::normalize(ec), n};
                                   h.resume();
                                 });
      // Registered after the start: a token already stopped must find an operation to cancel.
      this->arm(h);
    }
    io_result await_resume() noexcept {
      this->cancel_.reset();
      return this->r_;
    }
  };
  read_awaiter read_some(std::span<char> buf) noexcept { return read_awaiter{{&s_, {}, {}}, buf}; }
#endif

  /// Writes every byte of `bufs` (see detail::write_awaiter).
  detail::write_awaiter write(std::span<const const_buffer> bufs) noexcept {
#if BB_ASIO_READ_WATCH
    watch_->wrote();
#endif
    if (nodelay_later_ && std::exchange(wrote_, true)) {
      nodelay_later_ = false;
      std::error_code ec;
      s_.set_option(::asio::ip::tcp::no_delay(true), ec);
    }
    return detail::write_awaiter{{&s_, {}, {}}, bufs, 0, {}};
  }

  /// Sends FIN; the read side stays open.
  std::error_code shutdown() noexcept {
    std::error_code ec;
    s_.shutdown(::asio::socket_base::shutdown_send, ec);
    return ec;
  }
  /// Closes the socket; pending operations finish with an error.
  void close() noexcept {
    std::error_code ec;
    s_.close(ec);
  }
  /// True until close().
  [[nodiscard]] bool is_open() const noexcept { return s_.is_open(); }


 private:
  socket_type s_;
#if BB_ASIO_READ_WATCH
  detail::read_watch* watch_ = new detail::read_watch;  // owned; see read_watch::release
#endif
  bool nodelay_later_ = false;  // TCP_NODELAY is due before the second write
  bool wrote_ = false;          // a write was made
};

static_assert(bb::byte_stream<tcp_stream>);

/// A listening TCP socket; see bb::acceptor_of for the contract.
class tcp_acceptor {
 public:
  explicit tcp_acceptor(acceptor_type a) noexcept : a_(std::move(a)) {
#if BB_ASIO_READ_WATCH
    std::error_code ec;
    a_.non_blocking(true, ec);  // accept4 is tried directly: it must never block
#endif
  }
#if BB_ASIO_READ_WATCH
  tcp_acceptor(tcp_acceptor&& o) noexcept : a_(std::move(o.a_)), watch_(std::exchange(o.watch_, nullptr)) {}
  tcp_acceptor& operator=(tcp_acceptor&& o) noexcept {
    if (this != &o) {
      detail::accept_watch::release(watch_);  // before the listener closes and aborts it
      a_ = std::move(o.a_);
      watch_ = std::exchange(o.watch_, nullptr);
    }
    return *this;
  }
  ~tcp_acceptor() { detail::accept_watch::release(watch_); }

  /// The next connection and its peer address, accepted non-blocking with accept4 (see
  /// detail/accept_watch.hpp); TCP_NODELAY is set before its second write.
  struct accept_awaiter : detail::io_awaiter_base<acceptor_type, std::error_code> {
    detail::accept_watch* watch_;
    bool await_ready() { return watch_->try_accept(*this->io_); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      watch_->wait(*this->io_, h);
      // Registered after the start: a token already stopped must find an operation to cancel.
      this->arm(h);
    }
    result<accepted<tcp_stream>> await_resume() {
      this->cancel_.reset();
      const int fd = watch_->take_fd();
      if (fd < 0) return watch_->error() ? watch_->error() : std::make_error_code(std::errc::operation_canceled);
      const auto peer = watch_->peer();
      socket_type s(this->io_->get_executor());
      std::error_code ec;
      s.assign(peer.protocol(), fd, ec);  // registers it with the reactor
      if (ec) {
        ::close(fd);
        return ec;
      }
      // accept4 made it non-blocking: tell Asio, so that nobody makes it so again.
      detail::socket_impl_access<socket_type>::of(s).state_ |= ::asio::detail::socket_ops::non_blocking;
      return accepted<tcp_stream>{tcp_stream(std::move(s), tcp_stream::accepted_t{}), from_asio(peer)};
    }
  };
  accept_awaiter accept() noexcept { return accept_awaiter{{&a_, {}, {}}, watch_}; }
#else
  tcp_acceptor(tcp_acceptor&&) noexcept = default;
  tcp_acceptor& operator=(tcp_acceptor&&) noexcept = default;

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
      // Registered after the start: a token already stopped must find an operation to cancel.
      this->arm(h);
    }
    result<accepted<tcp_stream>> await_resume() {
      this->cancel_.reset();
      if (r_) return r_;
      return accepted<tcp_stream>{tcp_stream(std::move(*sock_), tcp_stream::accepted_t{}), from_asio(peer_)};
    }
  };
  accept_awaiter accept() noexcept { return accept_awaiter{{&a_, {}, {}}, {}, {}}; }
#endif

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
#if BB_ASIO_READ_WATCH
  detail::accept_watch* watch_ = new detail::accept_watch;  // owned; see accept_watch::release
#endif
};

static_assert(bb::acceptor_of<tcp_acceptor, tcp_stream>);

/// Listens and connects on one io_context.
class tcp_transport {
 public:
  using stream = tcp_stream;
  using acceptor = tcp_acceptor;

  explicit tcp_transport(::asio::io_context& ctx) noexcept : ctx_(&ctx) {}

  /// Binds `ep` with SO_REUSEADDR and SO_REUSEPORT and listens.
  result<tcp_acceptor> listen(const endpoint& ep) {
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
    return tcp_acceptor(std::move(a));
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
      // Registered after the start: a token already stopped must find an operation to cancel.
      this->arm(h);
    }
    result<tcp_stream> await_resume() {
      this->cancel_.reset();
      if (r_) return r_;
      std::error_code ec;
      sock_.set_option(::asio::ip::tcp::no_delay(true), ec);
      return tcp_stream(std::move(sock_));
    }
  };
  connect_awaiter connect(const endpoint& ep) {
    return connect_awaiter{{nullptr, {}, {}}, socket_type(*ctx_), to_asio(ep)};
  }

 private:
  ::asio::io_context* ctx_;
};

static_assert(bb::transport<tcp_transport>);

}  // namespace bb::asio_rt
