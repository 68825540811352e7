#pragma once
// A clock for unit tests: time moves only when the test calls advance().

#include <bb/core/cancel.hpp>
#include <bb/core/clock.hpp>
#include <bb/core/task.hpp>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

namespace bb::test {

class manual_clock {
public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<manual_clock, duration>;

  time_point now() const noexcept { return now_; }

  auto sleep_until(time_point tp) { return awaiter{this, tp, 0, {}, {}, {}}; }
  auto sleep_for(duration d) { return awaiter{this, now_ + d, 0, {}, {}, {}}; }

  /// Moves time forward by `d`, resuming every sleeper due by then in time order; a sleeper
  /// cancelled since the last call is due at once (`advance({})` resumes just those).
  void advance(duration d) {
    const auto until = now_ + d;
    while (!timers_.empty() && timers_.begin()->first.first <= until) {
      auto it = timers_.begin();
      now_ = it->first.first;
      auto* w = it->second;
      timers_.erase(it);
      w->fire();
    }
    now_ = until;
  }
  std::size_t pending() const noexcept { return timers_.size(); }

private:
  struct awaiter;
  struct canceller {
    awaiter* a_;
    void operator()() const noexcept { a_->clock_->cancel(a_); }
  };
  struct awaiter {
    manual_clock* clock_;
    time_point at_;
    std::uint64_t seq_ = 0;
    std::coroutine_handle<> h_;
    std::error_code ec_;
    std::optional<cancel_callback<canceller>> cancel_;
    bool await_ready() const noexcept { return at_ <= clock_->now_; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
      h_ = h;
      seq_ = clock_->seq_++;
      clock_->timers_.emplace(std::pair{at_, seq_}, this);
      cancel_.emplace(detail::token_of(h), canceller{this});
    }
    std::error_code await_resume() noexcept {
      cancel_.reset();
      return ec_;
    }
    void fire() { h_.resume(); }
  };
  void cancel(awaiter* a) {
    // Like the Asio and simulated clocks, never resume inside request_stop() (bb/core/clock.hpp):
    // the sleeper becomes due now, with operation_canceled, and the next advance() resumes it.
    timers_.erase(std::pair{a->at_, a->seq_});
    a->at_ = now_;
    a->ec_ = std::make_error_code(std::errc::operation_canceled);
    timers_.emplace(std::pair{a->at_, a->seq_}, a);
  }

  time_point now_{};
  std::uint64_t seq_ = 0;
  std::map<std::pair<time_point, std::uint64_t>, awaiter*> timers_;
};

static_assert(bb::clock<manual_clock>);

}  // namespace bb::test
