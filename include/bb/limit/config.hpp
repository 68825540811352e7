#pragma once
/// bb::rate_limit_config: the per-client rate limit a proxy applies, and where it is kept.

#include <bb/core/net.hpp>
#include <bb/limit/decision.hpp>
#include <bb/redis/url.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bb {

/// What a decision is when a remote store cannot give one (`--rate-limit-on-error`).
enum class rate_limit_on_error : std::uint8_t {
  allow,  ///< admit the request (fail open), without X-RateLimit-* headers
  deny,   ///< refuse it: 429 with Retry-After: 1, without X-RateLimit-* headers
  local,  ///< decide with this instance's in-memory limiter while the store is unavailable
};

/// Where limits are kept when it is not this process's memory: a Redis server (or cluster)
/// that every instance shares.
struct redis_store_config {
  /// The store url (`--rate-limit-store redis://...`); no hosts: the store is memory.
  redis::url url;
  /// url.hosts resolved, in the same order (the application resolves names at start-up).
  std::vector<endpoint> servers;
  /// What every key starts with (`--redis-prefix`).
  std::string prefix = "bb:rl:";
  /// How long a decision may wait for Redis before `on_error` answers (`--redis-timeout`).
  std::chrono::nanoseconds timeout = std::chrono::milliseconds(20);
  /// The answer while Redis is unavailable or slower than `timeout`.
  rate_limit_on_error on_error = rate_limit_on_error::allow;

  /// True when limits are kept in Redis.
  [[nodiscard]] bool enabled() const noexcept { return !url.hosts.empty(); }
};

/// How many requests a client may make per window, by which algorithm, and where the
/// counts live; defaults are those of the balancebeam command line (no limit, in memory).
struct rate_limit_config {
  /// Requests per window per client (`--max-requests-per-minute`); 0: unlimited.
  std::uint32_t limit = 0;
  /// How the limit is applied (`--rate-limit`).
  rate_limit_algorithm algorithm = rate_limit_algorithm::fixed_window;
  /// GCRA's burst (`--rate-limit-burst`); negative: the default, limit - 1, so that the
  /// limit is the limit.
  std::int64_t burst = -1;
  /// The window the limit counts over.
  std::chrono::nanoseconds window = std::chrono::minutes(1);
  /// The shared store (`--rate-limit-store redis://...`), when limits are not kept in memory.
  redis_store_config redis;

  /// True when requests are limited at all.
  [[nodiscard]] bool enabled() const noexcept { return limit > 0; }
  /// The burst in force: the configured one, or the default.
  [[nodiscard]] std::int64_t effective_burst() const noexcept { return burst >= 0 ? burst : std::int64_t{limit} - 1; }
};

}  // namespace bb
