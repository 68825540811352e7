#pragma once
/// bb::rate_limit_config: the per-client rate limit a proxy applies.

#include <bb/limit/decision.hpp>

#include <chrono>
#include <cstdint>

namespace bb {

/// How many requests a client may make per window, and by which algorithm; defaults are
/// those of the balancebeam command line (no limit).
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

  /// True when requests are limited at all.
  [[nodiscard]] bool enabled() const noexcept { return limit > 0; }
  /// The burst in force: the configured one, or the default.
  [[nodiscard]] std::int64_t effective_burst() const noexcept { return burst >= 0 ? burst : std::int64_t{limit} - 1; }
};

}  // namespace bb
