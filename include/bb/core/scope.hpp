#pragma once
/// bb::scope: a nursery that owns the tasks spawned into it and joins them.
///
/// Every spawned task starts at once (it runs inline until its first suspension) and
/// belongs to the scope until it finishes. `co_await s.join()` resumes when none is left;
/// `request_stop()` cancels them all through the scope's token. A scope must be joined
/// before it is destroyed: structured concurrency means no task outlives its owner.

#include <bb/core/cancel.hpp>
#include <bb/core/task.hpp>
#include <cassert>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace bb {

class scope : private detail::task_owner {
public:
  /// A scope whose tasks are also cancelled when `parent` is.
  explicit scope(cancel_token parent = {}) noexcept : task_owner{&scope::child_done}, link_(parent, stopper{this}) {}
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;
  ~scope() { assert(active_ == 0 && "a bb::scope was destroyed before its tasks were joined"); }

  /// Starts `t` now, owned by this scope, cancelled by this scope's token.
  void spawn(task<void> t) { spawn(std::move(t), source_.token()); }

  /// Starts `t` now, owned by this scope but cancelled by `token` (which the caller links
  /// to this scope's token when stop should reach it too).
  void spawn(task<void> t, cancel_token token) {
    auto h = t.release();
    h.promise().token_ = token;
    h.promise().owner_ = static_cast<detail::task_owner*>(this);
    ++active_;
    h.resume();
  }

  /// Cancels every task of the scope (they still have to finish; join waits for them).
  void request_stop() noexcept { source_.request_stop(); }
  /// The token that spawn(t) hands to tasks.
  [[nodiscard]] cancel_token token() noexcept { return source_.token(); }
  /// How many spawned tasks have not finished yet.
  [[nodiscard]] std::size_t active() const noexcept { return active_; }

  /// Awaitable that resumes once every spawned task has finished; rethrows the first
  /// exception that escaped one of them.
  auto join() noexcept {
    struct awaiter {
      scope* s_;
      bool await_ready() const noexcept { return s_->active_ == 0; }
      void await_suspend(std::coroutine_handle<> h) noexcept { s_->joiner_ = h; }
      void await_resume() const {
        if (auto e = std::exchange(s_->error_, nullptr)) std::rethrow_exception(e);
      }
    };
    return awaiter{this};
  }

private:
  struct stopper {
    scope* s_;
    void operator()() const noexcept { s_->request_stop(); }
  };

  static std::coroutine_handle<> child_done(detail::task_owner* o, std::exception_ptr e) noexcept {
    auto* s = static_cast<scope*>(o);
    if (e && !s->error_) s->error_ = std::move(e);
    if (--s->active_ == 0 && s->joiner_) return std::exchange(s->joiner_, {});
    return std::noop_coroutine();
  }

  cancel_source source_;
  cancel_callback<stopper> link_;
  std::size_t active_ = 0;
  std::coroutine_handle<> joiner_;
  std::exception_ptr error_;
};

}  // namespace bb
