#pragma once
/// bb::asio_rt::fast::tcp_stream: the byte_stream concept on Asio 1.22.1's epoll reactor,
/// with a read watch that remembers each socket's readiness, so that a proxied request
/// costs the system calls nginx's does (detail/read_watch.hpp; BB_ASIO_FAST_PATH).
///
/// A read tries the socket only when it may have bytes, and a wait costs no system call:
/// no recv that is known to fail, no epoll_ctl to re-arm. A cancelled read detaches from
/// the watch (which stays queued and keeps what it knows) and is resumed from the event
/// loop, so a connection pool that cancels the wait on an idle connection at every reuse
/// pays nothing for it.

#include <bb/asio/detail/epoll_access.hpp>
#include <bb/asio/detail/inline_reads.hpp>
#include <bb/asio/detail/owned_reactor_op.hpp>
#include <bb/asio/detail/read_watch.hpp>
#include <bb/asio/detail/write_awaiter.hpp>
#include <bb/asio/socket_types.hpp>

#include <asio/post.hpp>
#include <bb/core/cancel.hpp>
#include <bb/core/result.hpp>
#include <bb/core/transport.hpp>

#include <coroutine>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

namespace bb::asio_rt::fast {

/// A connected TCP stream whose reads track readiness; see bb::byte_stream for the contract.
class tcp_stream {
public:
  /// Marks a socket fresh from accept4 (non-blocking) and registered in this turn of the loop.
  struct accepted_t {};

  /// Takes a connected socket and makes it non-blocking: reads and writes try it directly.
  explicit tcp_stream(socket_type s) : s_(std::move(s)) {
    std::error_code ec;
    if (!s_.non_blocking()) s_.non_blocking(true, ec);
  }
  /// A socket fresh from accept4 and registered with the reactor in this turn of the
  /// loop. TCP_NODELAY is set before its second write: a first write never waits on
  /// Nagle's algorithm (nothing is in flight), and a connection that closes after one
  /// response, the common case, saves the call.
  tcp_stream(socket_type s, accepted_t) : tcp_stream(std::move(s)) {
    nodelay_later_ = true;
    // Fresh from accept, the descriptor is no dup of a registered one: closing it removes
    // it from epoll, and Asio need not make an EPOLL_CTL_DEL first.
    detail::epoll_access::socket_impl_access<socket_type>::of(s_).state_ &= ~::asio::detail::socket_ops::possible_dup;
    watch_->fresh(s_);
  }

  /// Reads at least one byte into `buf`; 0 bytes with bb::errc::eof at orderly close. An
  /// empty `buf` waits until the socket is readable and reads nothing. A socket known to be
  /// drained is not tried; a wait costs no system call. A cancelled read ends with
  /// operation_canceled (resumed through the executor) and leaves the socket's watch and
  /// its other operations alone.
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
    std::optional<bb::cancel_callback<detacher>> cancel_{};
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
  /// See read_awaiter.
  read_awaiter read_some(std::span<char> buf) noexcept { return read_awaiter{&s_, buf, watch_.get()}; }

  /// Writes every byte of `bufs` (see detail::write_awaiter).
  detail::write_awaiter write(std::span<const const_buffer> bufs) noexcept {
    watch_->wrote();
    if (nodelay_later_ && std::exchange(wrote_once_, true)) {
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
  // Destroyed before the socket: a queued watch is orphaned, and the close that follows
  // aborts it, so its completion frees it.
  detail::owned_op<detail::read_watch> watch_ = detail::make_owned_op<detail::read_watch>();
  bool nodelay_later_ = false;  // TCP_NODELAY is due before the second write
  bool wrote_once_ = false;     // a write was made
};

static_assert(bb::byte_stream<tcp_stream>);

}  // namespace bb::asio_rt::fast
