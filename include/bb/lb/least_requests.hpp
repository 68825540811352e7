#pragma once
/// bb::least_requests_balancer: sends each attempt to the eligible host with the fewest
/// requests in flight per unit of weight, like nginx's least_conn and HAProxy's leastconn
/// (counted in requests, since one keep-alive connection carries many).
///
/// Ties are broken at random by the injected generator, in proportion to weight
/// (reservoir sampling over the tied hosts, one scan). So an idle cluster, where every
/// host ties at zero, gets weighted-random shares, and a loaded one settles with in-flight
/// counts in proportion to weight.
///
/// Thread safety: in-flight counts are relaxed atomics, one cache line per host; a pick is
/// a read-only scan, so two workers picking at once may choose the same host, the usual
/// imprecision of a lock-free least-loaded choice, which the next pick corrects.

#include <bb/lb/balancing_policy.hpp>
#include <bb/lb/detail/hosts.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bb {

/// Fewest in flight per weight among the eligible hosts; ties broken at random.
class least_requests_balancer {
public:
  /// A balancer for hosts with these weights (one per host, each >= 1); throws
  /// std::invalid_argument otherwise.
  explicit least_requests_balancer(std::vector<std::uint32_t> weights)
      : weights_(detail::reduced_weights(std::move(weights))), loads_(weights_.size()) {}

  /// The host for the next attempt, or nullopt when no live, untried host is left.
  std::optional<std::size_t> pick(const pick_context& ctx) const {
    std::optional<std::size_t> best;
    std::int64_t best_load = 0;
    std::uint64_t tied_weight = 0;
    for (std::size_t i = 0; i < ctx.size(); ++i) {
      if (!ctx.eligible(i)) continue;
      const auto load = loads_.in_flight(i);
      if (!best || detail::lighter(load, weights_[i], best_load, weights_[*best])) {
        best = i, best_load = load, tied_weight = weights_[i];
      } else if (!detail::lighter(best_load, weights_[*best], load, weights_[i])) {
        tied_weight += weights_[i];  // keeps host i with probability weight / tied weight
        if (ctx.random.below(tied_weight) < weights_[i]) best = i, best_load = load;
      }
    }
    return best;
  }

  /// Counts a request that was sent to host `i`.
  void on_start(std::size_t i) noexcept { loads_.start(i); }
  /// Counts host `i`'s request as done (latency, outcome and time are not used here).
  void on_finish(std::size_t i, const attempt_result&) noexcept { loads_.finish(i); }

  /// Requests in flight on host `i`.
  [[nodiscard]] std::int64_t in_flight(std::size_t i) const noexcept { return loads_.in_flight(i); }

private:
  std::vector<std::uint32_t> weights_;
  detail::load_table loads_;
};

static_assert(balancing_policy<least_requests_balancer>);

}  // namespace bb
