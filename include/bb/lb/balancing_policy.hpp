#pragma once
/// bb::balancing_policy: the concept every balancing policy models (lb/*.hpp), so that the
/// balancer (lb/policy.hpp) treats the six alike and a new one fails to compile at its
/// definition when it drifts (a static_assert stands beside each).

#include <bb/lb/pick_context.hpp>

#include <concepts>
#include <cstddef>
#include <optional>

namespace bb {

/// A policy picks a host for an attempt (or none, when no eligible host is left), and is
/// told when each attempt it was given starts and ends: `on_start(i)` once the attempt on
/// host i begins, `on_finish(i, result)` exactly once when it ends, on every path. Picks
/// may run on any thread at once and take no lock.
template <class P>
concept balancing_policy = std::movable<P> &&
    requires(P& p, const P& cp, const pick_context& ctx, std::size_t i, const attempt_result& r) {
  { cp.pick(ctx) } -> std::same_as<std::optional<std::size_t>>;
  { p.on_start(i) }
  noexcept;
  { p.on_finish(i, r) }
  noexcept;
};

}  // namespace bb
