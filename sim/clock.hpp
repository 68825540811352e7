#pragma once
/// bb::sim::virtual_clock: the clock concept on the executor's virtual time.
///
/// Time passes only when the executor has nothing runnable and jumps to the next timer,
/// so a ten-minute run costs what its events cost. A clock belongs to one host: a sleep
/// that ends while that host is paused resumes when the host does.

#include <bb/core/cancel.hpp>
#include <bb/core/clock.hpp>
#include <bb/core/task.hpp>
#include <chrono>
#include <coroutine>
#include <optional>
#include <sim/error.hpp>
#include <sim/executor.hpp>
#include <sim/host.hpp>
#include <system_error>

namespace bb::sim {

class virtual_clock {
public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<virtual_clock, duration>;

  /// A clock on `exec` whose sleepers resume through `h`.
  virtual_clock(executor& exec, host& h) noexcept : exec_(&exec), host_(&h) {}

  [[nodiscard]] time_point now() const noexcept { return time_point(exec_->now()); }

  struct sleep_awaiter;
  struct canceller {
    sleep_awaiter* a_;
    void operator()() const noexcept {
      if (!a_->exec_->cancel(a_->timer_)) return;  // fired already: its resumption is queued
      a_->ec_ = err(std::errc::operation_canceled);
      a_->host_->wake(a_->h_);
    }
  };
  /// Resumes at the deadline, or early with operation_canceled when the task is stopped.
  struct sleep_awaiter {
    executor* exec_;
    host* host_;
    duration at_;
    std::coroutine_handle<> h_;
    timer_id timer_{};
    std::error_code ec_;
    std::optional<cancel_callback<canceller>> cancel_;

    bool await_ready() const noexcept { return at_ <= exec_->now(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      auto token = bb::detail::token_of(h);
      if (token.stop_requested()) {
        ec_ = err(std::errc::operation_canceled);
        return false;
      }
      h_ = h;
      timer_ = exec_->at_cancellable(at_, event{&fire, this, 0});
      cancel_.emplace(token, canceller{this});
      return true;
    }
    std::error_code await_resume() noexcept {
      cancel_.reset();
      return ec_;
    }
    static void fire(void* self, std::uint64_t) {
      auto* a = static_cast<sleep_awaiter*>(self);
      if (a->host_->paused) a->host_->held.push_back(a->h_);
      else a->h_.resume();
    }
  };

  /// Awaitable that resumes at `tp`.
  sleep_awaiter sleep_until(time_point tp) const noexcept {
    return {exec_, host_, tp.time_since_epoch(), {}, {}, {}, {}};
  }
  /// Awaitable that resumes after `d`.
  sleep_awaiter sleep_for(duration d) const noexcept { return {exec_, host_, exec_->now() + d, {}, {}, {}, {}}; }

private:
  executor* exec_;
  host* host_;
};

static_assert(bb::clock<virtual_clock>);

}  // namespace bb::sim
