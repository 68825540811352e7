#pragma once
/// bb::shared_state: what every worker of one balancebeam process shares — upstream
/// health and the rate limiter — built once from the configuration.

#include <bb/limit/memory_limiter.hpp>
#include <bb/proxy/config.hpp>
#include <bb/upstream/cluster.hpp>

#include <cstdint>
#include <optional>

namespace bb {

/// Upstream health and client rate limits, safe to use from every worker thread.
struct shared_state {
  /// Built from `config`; `seed` seeds the limiter's hashing. Throws std::invalid_argument
  /// for rate-limit parameters the algorithm rejects.
  shared_state(const proxy_config& config, std::uint64_t seed) : upstreams(config.upstreams) {
    if (config.max_requests_per_minute == 0) return;
    const std::int64_t n = config.max_requests_per_minute;
    limiter.emplace(config.rate_limit_algorithm, n, config.rate_limit_window,
                    config.rate_limit_burst >= 0 ? config.rate_limit_burst : n - 1, 64, seed);
  }

  cluster upstreams;
  /// Empty when requests are not limited.
  std::optional<memory_limiter> limiter;
};

}  // namespace bb
