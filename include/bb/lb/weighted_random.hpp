#pragma once
/// bb::weighted_random_balancer: random choice among the live hosts in proportion to their
/// weights; with equal weights, uniform among them (the original balancebeam's policy).

#include <bb/lb/balancing_policy.hpp>
#include <bb/lb/detail/hosts.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bb {

/// A random eligible host, drawn in proportion to weight.
class weighted_random_balancer {
public:
  /// A balancer for hosts with these weights (one per host, each >= 1); throws
  /// std::invalid_argument otherwise.
  explicit weighted_random_balancer(std::vector<std::uint32_t> weights) : weights_(std::move(weights)) {}

  /// The host for the next attempt, or nullopt when no live, untried host is left.
  std::optional<std::size_t> pick(const pick_context& ctx) const {
    // Draw first, check after: with every host live (the usual case) one draw suffices.
    const std::size_t first = weights_.draw_any(ctx.random);
    if (ctx.eligible(first)) return first;
    return weights_.draw_among(ctx.random, [&](std::size_t i) { return ctx.eligible(i); });
  }

  /// Random choice keeps no per-request state.
  void on_start(std::size_t) noexcept {}
  void on_finish(std::size_t, const attempt_result&) noexcept {}

private:
  detail::weight_table weights_;
};

static_assert(balancing_policy<weighted_random_balancer>);

}  // namespace bb
