#pragma once
/// bb::p2c_balancer: the power of two random choices (Mitzenmacher): draw two distinct
/// eligible hosts at random and send the attempt to the one with fewer requests in flight
/// per unit of weight. Nearly as even as least-requests, without its herding: workers
/// picking at the same moment rarely draw the same pair.
///
/// Weights count twice, so that shares follow them at every load: the candidates are drawn
/// in proportion to weight, and an exact tie (an idle cluster) goes to the first drawn,
/// which gives weighted-random shares; under load in-flight counts settle in proportion to
/// weight. Thread safety: relaxed atomic in-flight counts, one cache line per host; a pick
/// reads two of them and writes nothing.

#include <bb/lb/balancing_policy.hpp>
#include <bb/lb/detail/hosts.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bb {

/// Two random eligible hosts, the less loaded of them.
class p2c_balancer {
public:
  /// A balancer for hosts with these weights (one per host, each >= 1); throws
  /// std::invalid_argument otherwise.
  explicit p2c_balancer(std::vector<std::uint32_t> weights) : weights_(std::move(weights)), loads_(weights_.size()) {}

  /// The host for the next attempt, or nullopt when no live, untried host is left.
  std::optional<std::size_t> pick(const pick_context& ctx) const {
    const auto [a, b] = detail::pick_two(ctx, weights_);
    if (!b) return a;
    return better(*a, *b);
  }

  /// Of hosts `a` and `b`, the one a pick would choose: lower weighted load, `a` on a tie.
  [[nodiscard]] std::size_t better(std::size_t a, std::size_t b) const noexcept {
    return detail::lighter(loads_.in_flight(b), weights_[b], loads_.in_flight(a), weights_[a]) ? b : a;
  }

  /// Counts a request that was sent to host `i`.
  void on_start(std::size_t i) noexcept { loads_.start(i); }
  /// Counts host `i`'s request as done (latency, outcome and time are not used here).
  void on_finish(std::size_t i, const attempt_result&) noexcept { loads_.finish(i); }

  /// Requests in flight on host `i`.
  [[nodiscard]] std::int64_t in_flight(std::size_t i) const noexcept { return loads_.in_flight(i); }

private:
  detail::weight_table weights_;
  detail::load_table loads_;
};

static_assert(balancing_policy<p2c_balancer>);

}  // namespace bb
