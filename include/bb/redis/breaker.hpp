#pragma once
/// bb::redis::breaker: when to stop trying to connect, and when to try again.
///
/// Closed, a failed connection attempt (or a lost connection) is retried after a backoff
/// that doubles from `backoff_min` to `backoff_max`, drawn between half and all of it so
/// that the workers of many proxies do not retry in step. After `threshold` consecutive
/// failures it opens: nothing is tried for `open_for`; then one probe. A probe that fails
/// opens it again; one that connects closes it. Time is passed in (nanoseconds since the
/// caller's clock epoch) and randomness too: no clock, no I/O.

#include <bb/core/random.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace bb::redis {

/// The breaker's settings.
struct breaker_config {
  std::uint32_t threshold = 5;                                            ///< consecutive failures that open it
  std::chrono::nanoseconds open_for = std::chrono::seconds(1);            ///< how long it stays open before a probe
  std::chrono::nanoseconds backoff_min = std::chrono::milliseconds(10);   ///< the first retry's wait
  std::chrono::nanoseconds backoff_max = std::chrono::milliseconds(500);  ///< the longest retry wait
};

/// The state machine of connection attempts.
class breaker {
public:
  /// What a failure led to.
  enum class outcome : std::uint8_t { retry, opened, still_open };

  /// A closed breaker with `config`.
  explicit breaker(breaker_config config = {}) : config_(config) {}

  /// Records a failure at `now`; afterwards retry_at() says when to try next.
  outcome failure(std::chrono::nanoseconds now, rng& random) {
    ++failures_;
    if (open_) {
      retry_at_ = now + config_.open_for;
      return outcome::still_open;
    }
    if (failures_ >= config_.threshold) {
      open_ = true;
      retry_at_ = now + config_.open_for;
      return outcome::opened;
    }
    const auto full = std::min(config_.backoff_max,
                               config_.backoff_min * (std::int64_t{1} << std::min<std::uint32_t>(failures_ - 1, 30)));
    const auto half = full / 2;
    retry_at_ =
        now + half +
        std::chrono::nanoseconds(static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(half.count()) + 1)));
    return outcome::retry;
  }

  /// Records a connection that works; true when that closed an open breaker.
  bool success() noexcept {
    const bool was_open = open_;
    open_ = false;
    failures_ = 0;
    return was_open;
  }

  /// True while the breaker is open (between its opening and a probe that connects).
  [[nodiscard]] bool open() const noexcept { return open_; }
  /// Consecutive failures so far.
  [[nodiscard]] std::uint32_t failures() const noexcept { return failures_; }
  /// When the next attempt may start (after a failure).
  [[nodiscard]] std::chrono::nanoseconds retry_at() const noexcept { return retry_at_; }
  /// The settings.
  [[nodiscard]] const breaker_config& config() const noexcept { return config_; }

private:
  breaker_config config_;
  std::uint32_t failures_ = 0;
  bool open_ = false;
  std::chrono::nanoseconds retry_at_{};
};

}  // namespace bb::redis
