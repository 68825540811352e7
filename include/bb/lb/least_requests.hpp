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
  std::optional<std::size_t> pick(const cluster& c, rng& r, std::int64_t now_ns, bool passive_retry,
                                  const tried_set& tried) const {
    std::optional<std::size_t> best;
    std::int64_t best_load = 0;
    std::uint64_t tied_weight = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!detail::eligible(c, i, now_ns, passive_retry, tried)) continue;
      const auto load = loads_.in_flight(i);
      if (!best || detail::lighter(load, weights_[i], best_load, weights_[*best])) {
        best = i, best_load = load, tied_weight = weights_[i];
      } else if (!detail::lighter(best_load, weights_[*best], load, weights_[i])) {
        tied_weight += weights_[i];  // keeps host i with probability weight / tied weight
        if (r.below(tied_weight) < weights_[i]) best = i, best_load = load;
      }
    }
    return best;
  }

  /// Counts a request that was sent to host `i`.
  void on_start(std::size_t i) noexcept { loads_.start(i); }
  /// Counts host `i`'s request as done (latency, outcome and time are not used here).
  void on_finish(std::size_t i, std::int64_t, bool, std::int64_t) noexcept { loads_.finish(i); }

  /// Requests in flight on host `i`.
  [[nodiscard]] std::int64_t in_flight(std::size_t i) const noexcept { return loads_.in_flight(i); }

 private:
  std::vector<std::uint32_t> weights_;
  detail::load_table loads_;
};

}  // namespace bb
