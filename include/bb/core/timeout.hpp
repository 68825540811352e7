#pragma once
/// bb::with_timeout: runs a task against a deadline on an injected clock.

#include <bb/core/clock.hpp>
#include <bb/core/task.hpp>
#include <bb/core/when_any.hpp>
#include <optional>
#include <system_error>

namespace bb {

namespace detail {
template <clock Clock>
task<std::error_code> sleep_task(Clock& c, typename Clock::duration d) {
  co_return co_await c.sleep_for(d);
}
}  // namespace detail

/// The task's result, or nullopt when `d` passed first on `c` (the task is then
/// cancelled and has finished before this returns). A void task yields std::monostate.
template <clock Clock, class T>
task<std::optional<detail::non_void_t<T>>> with_timeout(Clock& c, typename Clock::duration d, task<T> t) {
  auto r = co_await when_any(std::move(t), detail::sleep_task(c, d));
  if (r.index() == 1) co_return std::nullopt;
  co_return std::move(std::get<0>(r));
}

}  // namespace bb
