#pragma once
/// bb::sim::signal: wakes one parked coroutine of a host when something it waits for
/// happened (work queued, a deadline passed). A notify with nobody parked is remembered.

#include <bb/core/cancel.hpp>
#include <bb/core/task.hpp>
#include <coroutine>
#include <optional>
#include <sim/connection.hpp>
#include <sim/host.hpp>
#include <sim/transport.hpp>
#include <utility>

namespace bb::sim {

class signal {
public:
  explicit signal(host& h) noexcept : host_(&h) {}
  signal(const signal&) = delete;
  signal& operator=(const signal&) = delete;

  /// Wakes the parked coroutine, or lets the next wait() pass at once.
  void notify() {
    set_ = true;
    if (auto* w = std::exchange(parked_, nullptr)) w->on->wake(w->h);
  }

  struct wait_awaiter {
    signal* s_;
    waiter w_{};
    std::optional<detail::unpark_callback> cancel_{};
    bool await_ready() const noexcept { return s_->set_; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      auto token = bb::detail::token_of(h);
      if (token.stop_requested()) return w_.canceled = true, false;
      w_ = waiter{h, s_->host_, false};
      s_->parked_ = &w_;
      cancel_.emplace(token, detail::unpark{&s_->parked_, &w_});
      return true;
    }
    /// False when the wait was cancelled.
    bool await_resume() noexcept {
      cancel_.reset();
      s_->set_ = false;
      return !w_.canceled;
    }
  };
  /// Parks until notify(); yields false when cancelled instead.
  wait_awaiter wait() noexcept { return wait_awaiter{this}; }

private:
  host* host_;
  waiter* parked_ = nullptr;
  bool set_ = false;
};

}  // namespace bb::sim
