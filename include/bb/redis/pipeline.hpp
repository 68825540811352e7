#pragma once
/// bb::redis::pipeline: the calls in flight on one connection, in the order they were sent,
/// each with its own deadline; and bb::redis::waiter, where a caller waits for its reply.
///
/// RESP2 answers commands in the order they arrive, so the n-th reply belongs to the n-th
/// call still in the queue: no call waits for another's round trip. A caller whose
/// deadline passes is resumed with errc::timed_out at once, but its entry stays in the
/// queue, without a waiter, until its reply comes (and is dropped): the order of replies
/// must still be counted. No I/O here and no clock: the client feeds in replies and times.

#include <bb/core/result.hpp>
#include <bb/redis/error.hpp>
#include <bb/redis/reply.hpp>

#include <coroutine>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace bb::redis {

/// Where one call's reply (or the error that replaces it) lands, and the coroutine that
/// waits for it. It lives in the caller's coroutine frame, so its address holds while the
/// caller is suspended; the pipeline lets go of it before resuming it.
class waiter {
public:
  waiter() = default;
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;

  /// Stores the outcome and resumes the caller if it is suspended on this waiter.
  void complete(result<reply> r) {
    out_.emplace(std::move(r));
    if (auto h = std::exchange(h_, {})) h.resume();
  }
  /// True once an outcome is stored.
  [[nodiscard]] bool done() const noexcept { return out_.has_value(); }
  /// Takes the outcome (only once done()).
  result<reply> take() { return std::move(*out_); }

  /// `co_await w` suspends until complete(), unless it already happened, and yields the outcome.
  auto operator co_await() noexcept {
    struct awaiter {
      waiter* w_;
      bool await_ready() const noexcept { return w_->done(); }
      void await_suspend(std::coroutine_handle<> h) noexcept { w_->h_ = h; }
      result<reply> await_resume() { return w_->take(); }
    };
    return awaiter{this};
  }

private:
  std::coroutine_handle<> h_;
  std::optional<result<reply>> out_;
};

/// The calls sent on one connection and not yet answered, oldest first.
template <class TimePoint>
class pipeline {
public:
  /// A call: its deadline, and its waiter until the caller stops waiting.
  struct entry {
    TimePoint deadline;
    waiter* w;
  };

  /// Records a call whose command has just been queued for sending.
  void push(TimePoint deadline, waiter& w) { q_.push_back({deadline, &w}); }

  /// Calls sent and not answered, including those whose caller stopped waiting.
  [[nodiscard]] std::size_t size() const noexcept { return q_.size(); }
  /// True when nothing is in flight.
  [[nodiscard]] bool empty() const noexcept { return q_.empty(); }

  /// Matches a reply to the oldest call: its waiter, or null when that caller stopped
  /// waiting; nullopt when no call is in flight (a reply nobody asked for).
  std::optional<waiter*> pop() {
    if (q_.empty()) return std::nullopt;
    waiter* w = q_.front().w;
    q_.pop_front();
    return w;
  }

  /// The earliest deadline of a call whose caller still waits; nullopt when none does.
  [[nodiscard]] std::optional<TimePoint> next_deadline() const {
    std::optional<TimePoint> d;
    // NOTE: deadlines are almost always in queue order, but a call resent after NOSCRIPT keeps
    // its first deadline behind later ones; the callers still waiting are few (an expired
    // prefix is skipped), so a scan is cheaper than keeping them ordered.
    for (std::size_t i = expired_prefix(); i < q_.size(); ++i)
      if (q_[i].w && (!d || q_[i].deadline < *d)) d = q_[i].deadline;
    return d;
  }

  /// Detaches every waiter whose deadline is at or before `now`, oldest first, and returns
  /// them for the caller to complete with errc::timed_out (outside any iteration).
  std::vector<waiter*> expire(TimePoint now) {
    std::vector<waiter*> out;
    for (std::size_t i = expired_prefix(); i < q_.size(); ++i)
      if (q_[i].w && q_[i].deadline <= now) out.push_back(std::exchange(q_[i].w, nullptr));
    return out;
  }

  /// True when the oldest call's caller gave up waiting: the server is slower than the
  /// timeout right now, and `stalled_since()` is that call's deadline.
  [[nodiscard]] bool stalled() const noexcept { return !q_.empty() && q_.front().w == nullptr; }
  /// The deadline of the oldest call (only when stalled()).
  [[nodiscard]] TimePoint stalled_since() const noexcept { return q_.front().deadline; }

  /// Empties the queue (the connection is gone) and returns the waiters still waiting,
  /// oldest first, for the caller to complete with an error.
  std::vector<waiter*> clear() {
    std::vector<waiter*> out;
    for (auto& e : q_)
      if (e.w) out.push_back(e.w);
    q_.clear();
    return out;
  }

private:
  std::size_t expired_prefix() const noexcept {
    std::size_t i = 0;
    while (i < q_.size() && !q_[i].w) ++i;
    return i;
  }

  std::deque<entry> q_;
};

}  // namespace bb::redis
