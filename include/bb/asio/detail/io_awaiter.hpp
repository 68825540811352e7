#pragma once
/// bb::asio_rt::detail::io_awaiter_base: the shape the runtime's socket awaiters share
/// (register for cancellation, start, resume with a result), and the error codes bb tests for.

#include <asio/error.hpp>
#include <bb/core/cancel.hpp>
#include <bb/core/error.hpp>

#include <coroutine>
#include <optional>
#include <system_error>

namespace bb::asio_rt::detail {

/// Maps Asio's "aborted" and "eof" to the portable codes that bb code tests for.
inline std::error_code normalize(std::error_code ec) noexcept {
  if (ec == ::asio::error::operation_aborted) return std::make_error_code(std::errc::operation_canceled);
  if (ec == ::asio::error::eof) return bb::errc::eof;
  return ec;
}

/// Cancels every operation pending on an I/O object.
template <class IoObject>
struct canceller {
  IoObject* o_;
  void operator()() const noexcept {
    std::error_code ignored;
    o_->cancel(ignored);
  }
};

/// Registers cancellation (a stop cancels the whole I/O object) and holds the result.
template <class IoObject, class Result>
struct io_awaiter_base {
  IoObject* io_;
  Result r_{};
  std::optional<bb::cancel_callback<canceller<IoObject>>> cancel_;

  bool await_ready() const noexcept { return false; }
  /// Call after the operation started: a token already stopped must find it to cancel.
  template <class P>
  void arm(std::coroutine_handle<P> h) {
    cancel_.emplace(bb::detail::token_of(h), canceller<IoObject>{io_});
  }
};

}  // namespace bb::asio_rt::detail
