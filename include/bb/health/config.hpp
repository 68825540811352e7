#pragma once
/// bb::health_config: how upstream health is judged, by active checks and passively.

#include <chrono>
#include <cstdint>
#include <string>

namespace bb {

/// The health settings of a proxy; defaults are those of the balancebeam command line.
struct health_config {
  /// Time between active check rounds (`--active-health-check-interval`); zero turns them
  /// off, and passive checks with backoff on.
  std::chrono::nanoseconds interval = std::chrono::seconds(10);
  /// The path active checks request (`GET`, `Host: <upstream name>`); 200 is healthy.
  std::string path = "/";
  /// Consecutive passed checks that bring a down upstream up (`--health-rise`), failed ones
  /// that take an up one down (`--health-fall`); at least 1.
  std::uint32_t rise = 1;
  std::uint32_t fall = 1;
  /// How long one active check may take; zero means the smaller of the interval and 2 s.
  std::chrono::nanoseconds timeout{0};
  /// With active checks off, a dead upstream is tried again after this backoff, doubled
  /// per consecutive ejection up to the cap.
  std::chrono::nanoseconds passive_backoff = std::chrono::seconds(10);
  std::chrono::nanoseconds passive_backoff_max = std::chrono::minutes(5);

  /// True when active checks run (and passive backoff is off).
  [[nodiscard]] bool active() const noexcept { return interval.count() > 0; }
};

}  // namespace bb
