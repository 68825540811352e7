#pragma once
/// bb::rate_decision: what a rate limiter answers for one request, and the whole-second
/// rounding its response headers use.

#include <cstdint>

namespace bb {

/// The limiting algorithms a limiter can apply (--rate-limit).
enum class rate_limit_algorithm : std::uint8_t { fixed_window, sliding_window, gcra };

/// One limiter's answer: admitted or not, and the figures for the X-RateLimit-* headers.
struct rate_decision {
  bool allowed = false;              ///< the request may proceed (otherwise: 429)
  std::uint32_t limit = 0;           ///< X-RateLimit-Limit: requests allowed in a full burst
  std::uint32_t remaining = 0;       ///< X-RateLimit-Remaining: further requests admitted right now
  std::int64_t retry_after_ns = -1;  ///< when refused, the wait until one request would be admitted; -1 when allowed
  std::int64_t reset_after_ns = 0;   ///< the wait until the client's allowance is whole again
  /// False when the store could not be asked and the answer is a policy's, not a count's
  /// (--rate-limit-on-error allow or deny): the response then carries no X-RateLimit-*.
  bool figures = true;

  friend bool operator==(const rate_decision&, const rate_decision&) = default;
};

/// Nanoseconds as redis-cell reports seconds: the integer part, plus one when any
/// remainder is left (2.0 s is 2, 2.1 s is 3); -1 (and any negative) stays -1.
constexpr std::int64_t whole_seconds_up(std::int64_t ns) noexcept {
  if (ns < 0) return -1;
  constexpr std::int64_t second = 1'000'000'000;
  return ns / second + (ns % second != 0 ? 1 : 0);
}

}  // namespace bb
