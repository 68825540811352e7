#pragma once
/// bb::task<T>: a lazy coroutine producing a T.
///
/// A task does nothing until it is awaited (or handed to a scope); awaiting it starts it
/// and resumes the awaiter by symmetric transfer when it finishes, so long chains of
/// synchronously completing tasks do not grow the stack. An exception escaping the task
/// is rethrown in the awaiter. The awaiter's cancellation token is inherited, so a stop
/// requested on an outer scope reaches the I/O a nested task is waiting on.

#include <bb/core/cancel.hpp>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace bb {

template <class T = void>
class task;

namespace detail {

/// Whoever owns spawned tasks (a scope): told when one finishes, with the exception that
/// escaped it if any; answers the coroutine to resume next.
struct task_owner {
  std::coroutine_handle<> (*on_done)(task_owner*, std::exception_ptr) noexcept;
};

/// T, or std::monostate for void, so that "no value" can be stored like a value.
template <class T>
using non_void_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// What every bb promise carries: who to resume when done, the cancellation token, and
/// the scope that owns the task when it was spawned rather than awaited.
struct promise_base {
  std::coroutine_handle<> continuation_ = std::noop_coroutine();
  cancel_token token_;
  task_owner* owner_ = nullptr;

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      if (task_owner* o = h.promise().owner_) {
        // A spawned task frees its own frame and reports to its scope; no wrapper frame.
        std::exception_ptr e;
        if constexpr (requires { h.promise().error_; }) e = h.promise().error_;
        h.destroy();
        return o->on_done(o, std::move(e));
      }
      return h.promise().continuation_;
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
};

/// The token of the coroutine behind `h`, or a token that never stops for foreign promises.
template <class P>
cancel_token token_of(std::coroutine_handle<P> h) noexcept {
  if constexpr (requires { h.promise().token_; }) return h.promise().token_;
  else return {};
}

template <class T>
struct task_promise : promise_base {
  std::variant<std::monostate, T, std::exception_ptr> result_;

  task<T> get_return_object() noexcept;
  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) { result_.template emplace<1>(std::forward<U>(v)); }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }
  T take() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return std::move(std::get<1>(result_));
  }
};

template <>
struct task_promise<void> : promise_base {
  std::exception_ptr error_;

  task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void take() {
    if (error_) std::rethrow_exception(error_);
  }
};

}  // namespace detail

/// A lazy, move-only coroutine that yields a T to the coroutine that awaits it.
template <class T>
class [[nodiscard]] task {
public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { destroy(); }

  /// True when the task holds a coroutine that has not been moved out.
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(h_); }

  /// The awaiter that starts the task and resumes the caller with its result.
  struct awaiter {
    handle_type h_;
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
      h_.promise().continuation_ = parent;
      h_.promise().token_ = detail::token_of(parent);
      return h_;
    }
    T await_resume() { return h_.promise().take(); }
  };
  awaiter operator co_await() && noexcept { return awaiter{h_}; }

  /// Releases the coroutine handle to a driver (scope, when_any, sync_wait).
  handle_type release() noexcept { return std::exchange(h_, {}); }

private:
  void destroy() noexcept {
    if (h_) h_.destroy();
  }
  handle_type h_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
}  // namespace detail

/// Awaitable that yields the calling task's cancellation token without suspending.
struct get_cancel_token_t {
  cancel_token token_;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    token_ = detail::token_of(h);
    return false;  // resume at once
  }
  cancel_token await_resume() const noexcept { return token_; }
};
/// `co_await bb::get_cancel_token()` gives the token that cancels the current task.
inline get_cancel_token_t get_cancel_token() noexcept { return {}; }

}  // namespace bb
