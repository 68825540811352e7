#pragma once
/// bb::with_cancel: awaits a task that a cancel_source of the caller's choosing can stop,
/// as well as the caller's own token.
///
/// A session uses it to cut one read at its deadline without closing the connection, so
/// that it can still answer (408) on it: stopping the source ends the read with
/// operation_canceled and leaves the socket usable.

#include <bb/core/cancel.hpp>
#include <bb/core/task.hpp>

#include <coroutine>
#include <optional>
#include <utility>

namespace bb {

namespace detail {

/// Forwards a stop of the awaiting task's token to the source the inner task observes.
struct forward_stop {
  cancel_source* to_;
  void operator()() const noexcept { to_->request_stop(); }
};

/// Owns the inner task's coroutine from the call until the awaiter goes away.
template <class T>
class with_cancel_awaiter {
public:
  with_cancel_awaiter(task<T> t, cancel_source& source) noexcept : h_(t.release()), source_(&source) {}
  with_cancel_awaiter(const with_cancel_awaiter&) = delete;
  with_cancel_awaiter& operator=(const with_cancel_awaiter&) = delete;
  ~with_cancel_awaiter() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
    // NOTE: linked before the inner task starts, so a stop already requested reaches it.
    link_.emplace(token_of(parent), forward_stop{source_});
    h_.promise().continuation_ = parent;
    h_.promise().token_ = source_->token();
    return h_;
  }
  T await_resume() {
    link_.reset();
    return h_.promise().take();
  }

private:
  typename task<T>::handle_type h_;
  cancel_source* source_;
  std::optional<cancel_callback<forward_stop>> link_;
};

}  // namespace detail

/// `co_await with_cancel(t, source)` runs `t` to its end like `co_await t`, except that
/// `t` is cancelled when `source.request_stop()` is called as well as when the awaiting
/// task is. A source, once stopped, stays stopped: every later operation under it fails.
template <class T>
detail::with_cancel_awaiter<T> with_cancel(task<T> t, cancel_source& source) noexcept {
  return detail::with_cancel_awaiter<T>(std::move(t), source);
}

}  // namespace bb
