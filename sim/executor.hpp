#pragma once
/// bb::sim::executor: the simulator's single thread of control, a run queue and a timer
/// queue over virtual time.
///
/// Everything runnable runs in the order it was posted; when nothing is runnable, virtual
/// time jumps to the earliest timer. Timers due at the same instant fire in the order they
/// were scheduled (a sequence number breaks the tie, never an address or a hash), so a run
/// is a pure function of its inputs.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <queue>
#include <vector>

namespace bb::sim {

/// Virtual time: nanoseconds since the start of the run.
using duration = std::chrono::nanoseconds;

/// One unit of work: a plain function pointer with its context, so that queueing it never
/// allocates (a coroutine resumption is `resume_handle` with the frame's address).
struct event {
  void (*fn)(void* ctx, std::uint64_t arg);
  void* ctx;
  std::uint64_t arg = 0;

  void operator()() const { fn(ctx, arg); }
};

/// A cancellable timer: its slot in the executor's table and the slot's generation.
struct timer_id {
  std::uint32_t slot = 0;
  std::uint32_t gen = 0;
};

class executor {
public:
  executor() = default;
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  /// The current virtual time.
  [[nodiscard]] duration now() const noexcept { return now_; }
  /// Events run so far (resumptions and timers).
  [[nodiscard]] std::uint64_t events_processed() const noexcept { return processed_; }
  /// Timers scheduled and neither fired nor cancelled.
  [[nodiscard]] std::size_t pending_timers() const noexcept { return live_timers_; }
  /// Events waiting in the run queue.
  [[nodiscard]] std::size_t ready() const noexcept { return ready_.size(); }

  /// Queues `e` to run after everything already runnable.
  void post(event e) { ready_.push_back(e); }
  /// Queues the resumption of `h`.
  void post(std::coroutine_handle<> h) { post(event{&resume_handle, h.address(), 0}); }

  /// Runs `e` at virtual time `at` (now, if `at` has passed); it cannot be cancelled.
  void at(duration when, event e) {
    ++live_timers_;
    timers_.push(entry{when < now_ ? now_ : when, seq_++, e, kNoSlot, 0});
  }

  /// Runs `e` at `when` unless cancel(id) is called first.
  timer_id at_cancellable(duration when, event e) {
    std::uint32_t s;
    if (free_.empty()) {
      s = static_cast<std::uint32_t>(gens_.size());
      gens_.push_back(0);
    } else {
      s = free_.back();
      free_.pop_back();
    }
    ++live_timers_;
    timers_.push(entry{when < now_ ? now_ : when, seq_++, e, s, gens_[s]});
    return {s, gens_[s]};
  }

  /// Cancels a timer that has not fired; returns false when it already fired or was cancelled.
  bool cancel(timer_id id) noexcept {
    if (id.slot >= gens_.size() || gens_[id.slot] != id.gen) return false;
    release(id.slot);
    --live_timers_;
    return true;
  }

  /// Runs events until none is left or `limit` is passed; returns the number run.
  std::uint64_t run(duration limit = duration::max()) {
    const auto start = processed_;
    stopped_ = false;
    while (!stopped_) {
      if (!ready_.empty()) {
        event e = ready_.front();
        ready_.pop_front();
        ++processed_;
        e();
        if (after_) after_(after_ctx_);
        continue;
      }
      if (timers_.empty() || timers_.top().when > limit) break;
      entry t = timers_.top();
      timers_.pop();
      if (t.slot != kNoSlot) {
        if (gens_[t.slot] != t.gen) continue;  // cancelled: its slot was reused or freed
        release(t.slot);
      }
      --live_timers_;
      now_ = t.when;
      ++processed_;
      t.e();
      if (after_) after_(after_ctx_);
    }
    if (!stopped_ && limit != duration::max() && limit > now_) now_ = limit;
    return processed_ - start;
  }

  /// Calls `fn(ctx)` after every event from now on (nullptr: no longer); an observer that
  /// must see every state the run passes through, however briefly it lasts.
  void after_each(void (*fn)(void*), void* ctx) noexcept { after_ = fn, after_ctx_ = ctx; }

  /// Makes run() return after the current event.
  void stop() noexcept { stopped_ = true; }

  /// The event function that resumes the coroutine whose address is `ctx`.
  static void resume_handle(void* ctx, std::uint64_t) { std::coroutine_handle<>::from_address(ctx).resume(); }

private:
  static constexpr std::uint32_t kNoSlot = 0xffffffffu;
  struct entry {
    duration when;
    std::uint64_t seq;
    event e;
    std::uint32_t slot;
    std::uint32_t gen;
  };
  struct later {
    bool operator()(const entry& a, const entry& b) const noexcept {
      return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
  };
  void release(std::uint32_t s) {
    ++gens_[s];
    free_.push_back(s);
  }

  duration now_{0};
  void (*after_)(void*) = nullptr;
  void* after_ctx_ = nullptr;
  std::uint64_t seq_ = 0;
  std::uint64_t processed_ = 0;
  std::size_t live_timers_ = 0;
  bool stopped_ = false;
  std::deque<event> ready_;
  std::priority_queue<entry, std::vector<entry>, later> timers_;
  std::vector<std::uint32_t> gens_;
  std::vector<std::uint32_t> free_;
};

}  // namespace bb::sim
