#pragma once
/// The awaitable_of concept: something `co_await` accepts that yields an R.

#include <concepts>
#include <coroutine>
#include <utility>

namespace bb {

namespace detail {
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) return std::forward<A>(a).operator co_await();
  else return std::forward<A>(a);
}
}  // namespace detail

/// `A` is awaitable (directly or through a member operator co_await) and yields an R.
template <class A, class R>
concept awaitable_of = requires(A&& a) {
  { detail::get_awaiter(std::forward<A>(a)).await_ready() } -> std::convertible_to<bool>;
  { detail::get_awaiter(std::forward<A>(a)).await_resume() } -> std::convertible_to<R>;
};

}  // namespace bb
