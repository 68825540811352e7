#pragma once
/// bb::ready<T>: an awaitable that already holds its value, so `co_await` never suspends.
///
/// It lets a synchronous implementation stand behind an asynchronous seam at no cost: no
/// coroutine frame, no allocation, no trip through the scheduler.

#include <bb/core/awaitable.hpp>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace bb {

/// A value wrapped as an awaitable that is always ready; `co_await` yields the value.
template <class T>
struct ready {
  T value;

  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(value); }
};

template <class T>
ready(T) -> ready<T>;

static_assert(awaitable_of<ready<int>, int>);

}  // namespace bb
