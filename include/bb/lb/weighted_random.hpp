#pragma once
/// bb::weighted_random_balancer: random choice among the live hosts in proportion to their
/// weights; with equal weights, uniform among them (the original balancebeam's policy).

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
  std::optional<std::size_t> pick(const cluster& c, rng& r, std::int64_t now_ns, bool passive_retry,
                                  const tried_set& tried) const {
    // Draw first, check after: with every host live (the usual case) one draw suffices.
    const std::size_t first = weights_.draw_any(r);
    if (detail::eligible(c, first, now_ns, passive_retry, tried)) return first;
    return weights_.draw_among(r, [&](std::size_t i) { return detail::eligible(c, i, now_ns, passive_retry, tried); });
  }

  /// Random choice keeps no per-request state.
  void on_start(std::size_t) noexcept {}
  void on_finish(std::size_t, std::int64_t, bool, std::int64_t) noexcept {}

 private:
  detail::weight_table weights_;
};

}  // namespace bb
