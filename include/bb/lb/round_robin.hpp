#pragma once
/// bb::round_robin_balancer: weighted smooth round robin, nginx's algorithm: host weights
/// {5,1,1} give `a a b a c a a`, interleaving a light host between the heavy one's turns
/// rather than sending it five in a row.
///
/// Thread safety: the sequence for one cycle (sum of the weights, after dividing by
/// their gcd) is computed once at construction; a pick is one relaxed fetch_add on a
/// shared counter and a read of that table. No lock, and the sequence is deterministic:
/// a single thread sees exactly nginx's order, several threads see it interleaved.
///
/// A host that is dead or already tried gives its slot to the next eligible slot in the
/// cycle, and the skipped slots are consumed with it, so the live hosts keep sharing in
/// proportion to their weights (nginx drops a dead peer from its rotation the same way).

#include <bb/lb/balancing_policy.hpp>
#include <bb/lb/detail/hosts.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

namespace bb {

/// Weighted smooth round robin over the cluster's eligible hosts.
class round_robin_balancer {
public:
  /// The longest cycle accepted: a table of this many host indices is built at start-up.
  static constexpr std::size_t max_cycle = 1 << 16;

  /// A balancer for hosts with these weights (one per host, each >= 1). Throws
  /// std::invalid_argument when the weights are invalid or their cycle exceeds max_cycle.
  explicit round_robin_balancer(std::vector<std::uint32_t> weights)
      : next_(std::make_unique<std::atomic<std::uint64_t>>(0)) {
    weights = detail::reduced_weights(std::move(weights));
    std::uint64_t total = 0;
    for (auto w : weights) total += w;
    if (total > max_cycle) throw std::invalid_argument("round-robin: weights too large (reduce their ratios)");
    schedule_ = smooth_schedule(weights, static_cast<std::size_t>(total));
  }

  /// One cycle of nginx's smooth weighted round robin over all hosts: each step every
  /// host's current weight grows by its weight, the largest (first on a tie) is chosen and
  /// loses the total.
  static std::vector<std::uint32_t> smooth_schedule(const std::vector<std::uint32_t>& weights, std::size_t total) {
    std::vector<std::int64_t> current(weights.size(), 0);
    std::vector<std::uint32_t> out;
    out.reserve(total);
    for (std::size_t step = 0; step < total; ++step) {
      std::size_t best = 0;
      for (std::size_t i = 0; i < weights.size(); ++i) {
        current[i] += weights[i];
        if (current[i] > current[best]) best = i;
      }
      current[best] -= static_cast<std::int64_t>(total);
      out.push_back(static_cast<std::uint32_t>(best));
    }
    return out;
  }

  /// The host for the next attempt, or nullopt when no live, untried host is left.
  std::optional<std::size_t> pick(const pick_context& ctx) const {
    const std::size_t len = schedule_.size();
    const auto pos = next_->fetch_add(1, std::memory_order_relaxed);
    const std::size_t start = static_cast<std::size_t>(pos % len);
    if (ctx.eligible(schedule_[start])) return schedule_[start];
    // Count before walking so that a cluster with no eligible host costs O(hosts), not a
    // walk over the whole cycle.
    bool any = false;
    for (std::size_t i = 0; i < ctx.size() && !any; ++i) any = ctx.eligible(i);
    if (!any) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const std::size_t i = schedule_[(start + k) % len];
      if (ctx.eligible(i)) {
        next_->fetch_add(k, std::memory_order_relaxed);
        return i;
      }
    }
    return std::nullopt;
  }

  /// Round robin keeps no per-request state.
  void on_start(std::size_t) noexcept {}
  void on_finish(std::size_t, const attempt_result&) noexcept {}

  /// The precomputed cycle of host indices (for tests and diagnostics).
  [[nodiscard]] const std::vector<std::uint32_t>& schedule() const noexcept { return schedule_; }

private:
  std::vector<std::uint32_t> schedule_;
  std::unique_ptr<std::atomic<std::uint64_t>> next_;  ///< held by pointer so the balancer moves
};

static_assert(balancing_policy<round_robin_balancer>);

}  // namespace bb
