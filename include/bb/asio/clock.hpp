#pragma once
/// bb::asio_rt::steady_clock: the clock concept on std::chrono::steady_clock, with sleeps
/// as Asio timers on one io_context.

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <bb/core/cancel.hpp>
#include <bb/core/clock.hpp>
#include <bb/core/task.hpp>
#include <chrono>
#include <coroutine>
#include <optional>
#include <system_error>

namespace bb::asio_rt {

// A timer on io_context's own executor type (not any_io_executor): smaller, no type erasure.
using timer_type =
    ::asio::basic_waitable_timer<std::chrono::steady_clock, ::asio::wait_traits<std::chrono::steady_clock>,
                                 ::asio::io_context::executor_type>;

/// The real monotonic clock; sleeps run on the io_context given at construction.
class steady_clock {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::nanoseconds;

  explicit steady_clock(::asio::io_context& ctx) noexcept : ctx_(&ctx) {}

  struct canceller {
    timer_type* t_;
    void operator()() const noexcept { t_->cancel(); }
  };
  /// Waits on an Asio timer; a stop on the task's token cancels the timer.
  struct sleep_awaiter {
    timer_type timer_;
    std::error_code ec_;
    std::optional<cancel_callback<canceller>> cancel_;

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      timer_.async_wait([this, h](std::error_code ec) {
        ec_ = ec;
        h.resume();
      });
      cancel_.emplace(detail::token_of(h), canceller{&timer_});
    }
    std::error_code await_resume() noexcept {
      cancel_.reset();
      return ec_ == ::asio::error::operation_aborted ? std::make_error_code(std::errc::operation_canceled) : ec_;
    }
  };

  /// The current time of std::chrono::steady_clock.
  [[nodiscard]] time_point now() const noexcept { return std::chrono::steady_clock::now(); }

  /// Awaitable that resumes at `tp`, or early with operation_canceled on cancellation.
  auto sleep_until(time_point tp) const { return sleep_awaiter{timer_type(*ctx_, tp), {}, {}}; }
  /// Awaitable that resumes after `d`.
  auto sleep_for(duration d) const { return sleep_until(now() + d); }

private:
  ::asio::io_context* ctx_;
};

static_assert(bb::clock<steady_clock>);

}  // namespace bb::asio_rt
