#pragma once
/// bb::balancer: the balancing policy a proxy was configured with (`--balance NAME`),
/// behind one interface: pick a host, then report when the request starts and finishes.
///
/// One balancer is meant to be shared by every worker thread of a process, like the
/// cluster: the in-flight counts and latency estimates that least-requests, p2c,
/// consistent-hash and peak-ewma rely on must see the whole process's traffic. Every call
/// is safe from any thread and takes no lock on the pick path.
///
/// The contract with the caller: after pick() returns host i and the request is sent,
/// call on_start(i) once, and on_finish(i, ...) exactly once when the attempt ends, on
/// every path (answer, error, timeout, client gone), or in-flight counts drift upward.

#include <bb/lb/balance_policy.hpp>
#include <bb/lb/balancing_policy.hpp>
#include <bb/lb/consistent_hash.hpp>
#include <bb/lb/least_requests.hpp>
#include <bb/lb/p2c.hpp>
#include <bb/lb/peak_ewma.hpp>
#include <bb/lb/round_robin.hpp>
#include <bb/lb/weighted_random.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace bb {

/// What some policies need besides the weights.
struct balancer_options {
  /// consistent-hash: one ring key per host (the upstream names, say); empty: by index.
  std::vector<std::string> host_keys;
  /// consistent-hash: c in the bounded-load rule (>= 1; 0 turns the bound off).
  double hash_load_factor = 1.25;
  /// peak-ewma: decay time constant (`--ewma-decay`) and the latency assumed before any answer.
  peak_ewma_options ewma;
};

/// One of the policies, chosen at start-up.
class balancer {
public:
  /// A balancer running `p` over hosts with these weights (one per host, each >= 1; all 1
  /// for an unweighted cluster). Throws std::invalid_argument on a bad configuration.
  balancer(balance_policy p, std::vector<std::uint32_t> weights, const balancer_options& o = {})
      : policy_(p), impl_(make(p, std::move(weights), o)) {}

  [[nodiscard]] balance_policy policy() const noexcept { return policy_; }

  /// The host for the next attempt, or nullopt when no live, untried host is left (see
  /// pick_context).
  std::optional<std::size_t> pick(const pick_context& ctx) const {
    return std::visit([&](const auto& b) { return b.pick(ctx); }, impl_);
  }

  /// Requests in flight on host `i` as the policy counts them; 0 for random and round-robin,
  /// which count nothing.
  [[nodiscard]] std::int64_t in_flight(std::size_t i) const noexcept {
    return std::visit(
        [i](const auto& b) -> std::int64_t {
          if constexpr (requires { b.in_flight(i); }) return b.in_flight(i);
          else return 0;
        },
        impl_);
  }

  /// Records that an attempt was sent to host `i`.
  void on_start(std::size_t i) noexcept {
    std::visit([i](auto& b) { b.on_start(i); }, impl_);
  }

  /// Records how the attempt on host `i` ended.
  void on_finish(std::size_t i, const attempt_result& r) noexcept {
    std::visit([&](auto& b) { b.on_finish(i, r); }, impl_);
  }

private:
  using any_policy = std::variant<weighted_random_balancer, round_robin_balancer, least_requests_balancer, p2c_balancer,
                                  consistent_hash_balancer, peak_ewma_balancer>;

  static any_policy make(balance_policy p, std::vector<std::uint32_t> w, const balancer_options& o) {
    switch (p) {
      case balance_policy::round_robin: return round_robin_balancer(std::move(w));
      case balance_policy::least_requests: return least_requests_balancer(std::move(w));
      case balance_policy::p2c: return p2c_balancer(std::move(w));
      case balance_policy::consistent_hash:
        return consistent_hash_balancer(std::move(w), o.host_keys, o.hash_load_factor);
      case balance_policy::peak_ewma: return peak_ewma_balancer(std::move(w), o.ewma);
      case balance_policy::random: break;
    }
    return weighted_random_balancer(std::move(w));
  }

  balance_policy policy_;
  any_policy impl_;
};

}  // namespace bb
