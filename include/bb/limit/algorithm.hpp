#pragma once
/// The rate_algorithm concept: a pure per-key limiter that a store can drive.
///
/// An algorithm keeps no per-client data of its own: the store hands it the client's
/// state and the time, and keeps whatever the algorithm leaves in that state. This is
/// what lets one algorithm run over an in-memory table today and a remote store later.

#include <bb/limit/decision.hpp>
#include <chrono>
#include <concepts>
#include <type_traits>
#include <utility>

namespace bb {

/// `A` decides one request from a per-key `state_type` and `now` (nanoseconds since the
/// caller's clock epoch) and says when that state stops mattering.
///
/// Semantic requirements, which the store relies on to reclaim memory:
/// - `state_type{}` is the state of a client never seen (fresh), and `expires_at` of it is
///   `nanoseconds::min()`;
/// - once `now >= expires_at(s)`, deciding with `s` gives the same answers and the same
///   following states as deciding with `state_type{}`: an expired state may be dropped;
/// - a state whose `expires_at(s) > now` for some real `now` never equals `state_type{}`.
template <class A>
concept rate_algorithm = requires(const A& a, typename A::state_type& s, std::chrono::nanoseconds now) {
  typename A::state_type;
  requires std::is_trivially_copyable_v<typename A::state_type>;
  requires std::equality_comparable<typename A::state_type>;
  requires std::default_initializable<typename A::state_type>;
  { a.decide(s, now) } -> std::same_as<rate_decision>;
  { a.expires_at(std::as_const(s)) } -> std::same_as<std::chrono::nanoseconds>;
};

}  // namespace bb
