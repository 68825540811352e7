#pragma once
/// bb::asio_rt::portable::tcp_stream: the byte_stream concept on Asio's public API alone,
/// for any Asio version and any of its backends (epoll, io_uring, kqueue, select).
///
/// A read tries the socket directly (it is non-blocking) and, when the socket has nothing,
/// waits with async_wait(wait_read) and reads in the wait's completion. A zero-length read
/// is that wait alone. A wait reports readiness that is already there (on epoll, Asio
/// re-arms the descriptor for every wait, and the re-arm re-polls it), so the read that
/// follows a write and a short read is skipped: the answer to what was just written cannot
/// be there yet, and guessing wrong costs a turn of the loop, never a lost byte.
///
/// A cancelled read cancels only its own wait (Asio's per-operation cancellation, through
/// a cancellation slot), never the socket's other operations, and is resumed from the
/// event loop, never inline; the socket stays registered, so the cancel makes no system
/// call. What the public API cannot avoid on epoll, and the fast path does
/// (fast/tcp_stream.hpp): an epoll_ctl(EPOLL_CTL_MOD) for every wait, since Asio keeps no
/// edge for a socket nobody waits on.

#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/post.hpp>
#include <bb/asio/detail/inline_reads.hpp>
#include <bb/asio/detail/io_awaiter.hpp>
#include <bb/asio/detail/write_awaiter.hpp>
#include <bb/asio/socket_types.hpp>
#include <bb/core/cancel.hpp>
#include <bb/core/result.hpp>
#include <bb/core/transport.hpp>

#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

namespace bb::asio_rt::portable {

/// A connected TCP stream on Asio's public API; see bb::byte_stream for the contract.
class tcp_stream {
public:
  /// Marks a socket fresh from accept.
  struct accepted_t {};

  /// Takes a connected socket and makes it non-blocking: reads and writes try it directly.
  explicit tcp_stream(socket_type s) : s_(std::move(s)) {
    std::error_code ec;
    if (!s_.non_blocking()) s_.non_blocking(true, ec);
  }
  /// A socket fresh from accept. TCP_NODELAY is set before its second write: a first write
  /// never waits on Nagle's algorithm (nothing is in flight), and a connection that closes
  /// after one response, the common case, saves the call.
  tcp_stream(socket_type s, accepted_t) : tcp_stream(std::move(s)) { nodelay_later_ = true; }

  /// Reads at least one byte into `buf`; 0 bytes with bb::errc::eof at orderly close. An
  /// empty `buf` waits until the socket is readable and reads nothing. A cancelled read ends
  /// with operation_canceled, resumed from the event loop, and leaves the socket's other
  /// operations alone.
  struct read_awaiter {
    /// Cancels this read's wait alone.
    struct canceller {
      read_awaiter* a_;
      void operator()() const noexcept { a_->signal_.emit(::asio::cancellation_type::terminal); }
    };
    tcp_stream* s_;
    std::span<char> buf_;
    io_result r_{};
    ::asio::cancellation_signal signal_{};
    bb::cancel_token token_{};
    std::optional<bb::cancel_callback<canceller>> cancel_{};
    bool deferred_ = false;

    bool await_ready() {
      // Past the budget of inline reads in a row, the read goes through the loop.
      if (detail::inline_budget_spent()) return !(deferred_ = true);
      return s_->try_read(buf_, r_, false);
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      detail::inline_budget_reset();
      token_ = bb::detail::token_of(h);
      if (deferred_) {
        ::asio::post(s_->s_.get_executor(), [this, h] {
          if (token_.stop_requested()) {
            r_ = {std::make_error_code(std::errc::operation_canceled), 0};
            return h.resume();
          }
          if (s_->try_read(buf_, r_, false)) return h.resume();
          wait(h);
        });
      } else {
        wait(h);
      }
      // Registered after the wait: a token already stopped must find a wait to cancel.
      cancel_.emplace(token_, canceller{this});
    }
    io_result await_resume() noexcept {
      cancel_.reset();
      return r_;
    }

  private:
    void wait(std::coroutine_handle<> h) {
      s_->s_.async_wait(::asio::socket_base::wait_read,
                        ::asio::bind_cancellation_slot(signal_.slot(), [this, h](std::error_code ec) {
                          // A stop that came after the wake-up was queued: the stream may
                          // have changed hands meanwhile (a pool hands out the connection
                          // it watched), so it is not touched.
                          if (!ec && token_.stop_requested()) ec = ::asio::error::operation_aborted;
                          if (ec) {
                            r_ = {detail::normalize(ec), 0};
                            return h.resume();
                          }
                          if (buf_.empty()) {
                            r_ = {};
                            return h.resume();
                          }
                          if (s_->try_read(buf_, r_, true)) return h.resume();
                          wait(h);  // woken, but the bytes were gone: wait again
                        }));
    }
  };
  /// See read_awaiter.
  read_awaiter read_some(std::span<char> buf) noexcept { return read_awaiter{this, buf}; }

  /// Writes every byte of `bufs` (see detail::write_awaiter).
  detail::write_awaiter write(std::span<const const_buffer> bufs) noexcept {
    wrote_ = true;
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
  /// One recv into `buf`, unless the socket is known to have nothing (a wait is due): true
  /// with the result in `r`, false for would-block. `woken`: a wait just said readable.
  bool try_read(std::span<char> buf, io_result& r, bool woken) {
    if (buf.empty()) return false;                 // a wait, which needs no peek
    if (!woken && short_ && wrote_) return false;  // the answer to what was written is not here yet
    std::error_code ec;
    const std::size_t n = s_.read_some(::asio::buffer(buf.data(), buf.size()), ec);
    if (ec == ::asio::error::would_block || ec == ::asio::error::try_again) return false;
    short_ = !ec && n < buf.size();
    wrote_ = false;
    r = {detail::normalize(ec), n};
    return true;
  }

  socket_type s_;
  bool short_ = false;          // the last read came back short: the kernel's queue was empty
  bool wrote_ = false;          // bytes were written since that read
  bool nodelay_later_ = false;  // TCP_NODELAY is due before the second write
  bool wrote_once_ = false;     // a write was made
};

static_assert(bb::byte_stream<tcp_stream>);

}  // namespace bb::asio_rt::portable
