#pragma once
/// bb::shared_state: what every worker of one balancebeam process shares — upstream
/// health, the balancer's in-flight counts and latency estimates, and the rate limiter —
/// built once from the configuration.

#include <bb/lb/policy.hpp>
#include <bb/limit/memory_limiter.hpp>
#include <bb/proxy/config.hpp>
#include <bb/upstream/cluster.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bb {

/// Upstream health, balancing state and client rate limits, safe to use from every
/// worker thread.
struct shared_state {
  /// Built from `config`; `seed` seeds the limiter's hashing. Throws std::invalid_argument
  /// for balancing or rate-limit parameters the policy or algorithm rejects.
  shared_state(const proxy_config& config, std::uint64_t seed)
      : upstreams(config.upstreams), balance(config.balance, weights_of(config), options_of(config)) {
    if (config.max_requests_per_minute == 0) return;
    const std::int64_t n = config.max_requests_per_minute;
    limiter.emplace(config.rate_limit_algorithm, n, config.rate_limit_window,
                    config.rate_limit_burst >= 0 ? config.rate_limit_burst : n - 1, 64, seed);
  }

  cluster upstreams;
  /// The `--balance` policy, shared so that in-flight counts and latencies are the process's.
  balancer balance;
  /// Empty when requests are not limited.
  std::optional<memory_limiter> limiter;

private:
  static std::vector<std::uint32_t> weights_of(const proxy_config& c) {
    std::vector<std::uint32_t> w;
    for (const auto& u : c.upstreams) w.push_back(u.weight);
    return w;
  }
  static balancer_options options_of(const proxy_config& c) {
    balancer_options o;
    for (const auto& u : c.upstreams) o.host_keys.push_back(u.name);
    o.ewma.decay = c.ewma_decay;
    return o;
  }
};

}  // namespace bb
