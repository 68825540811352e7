#pragma once
/// bb::when_any: runs two tasks, yields the first result and cancels the other.
///
/// Both tasks run in a private scope linked to the caller's token. The first one to finish
/// wins; the other is cancelled and awaited before when_any returns, so nothing it owns
/// outlives the call (structured concurrency). A void task contributes std::monostate.

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace bb {

namespace detail {
template <std::size_t I, class Result, class T>
task<void> race_arm(task<T> t, std::optional<Result>& out, scope& s) {
  // NOTE: the loser must be cancelled on every path, a throwing winner included.
  struct stop_on_exit {
    scope& s_;
    ~stop_on_exit() { s_.request_stop(); }
  } guard{s};
  if constexpr (std::is_void_v<T>) {
    co_await std::move(t);
    if (!out) out.emplace(std::in_place_index<I>);
  } else {
    auto v = co_await std::move(t);
    if (!out) out.emplace(std::in_place_index<I>, std::move(v));
  }
}
}  // namespace detail

/// The result of the first of `a` and `b` to finish, as variant index 0 or 1.
template <class A, class B>
task<std::variant<detail::non_void_t<A>, detail::non_void_t<B>>> when_any(task<A> a, task<B> b) {
  using result = std::variant<detail::non_void_t<A>, detail::non_void_t<B>>;
  std::optional<result> out;
  scope s(co_await get_cancel_token());
  s.spawn(detail::race_arm<0, result>(std::move(a), out, s));
  s.spawn(detail::race_arm<1, result>(std::move(b), out, s));
  co_await s.join();
  co_return std::move(*out);
}

}  // namespace bb
