#pragma once
/// bb::health_threshold: the rise/fall state machine of active health checks.
///
/// It knows nothing of sockets or HTTP (as Envoy keeps its threshold apart from the
/// checker): it is told each check's result and the host's current state, and says when
/// that state should change.

#include <cstdint>
#include <optional>

namespace bb {

/// Counts consecutive results: `rise` successes bring a down host up, `fall` failures
/// take an up host down.
class health_threshold {
public:
  /// Thresholds of at least 1.
  health_threshold(std::uint32_t rise, std::uint32_t fall) noexcept : rise_(rise ? rise : 1), fall_(fall ? fall : 1) {}

  /// Takes one check result for a host that is `up` now; the new state when it changes.
  std::optional<bool> observe(bool ok, bool up) noexcept {
    if (ok) {
      fails_ = 0;
      if (up) return oks_ = 0, std::nullopt;
      if (++oks_ < rise_) return std::nullopt;
      oks_ = 0;
      return true;
    }
    oks_ = 0;
    if (!up) return fails_ = 0, std::nullopt;
    if (++fails_ < fall_) return std::nullopt;
    fails_ = 0;
    return false;
  }

  /// Forgets the counts (the host changed state by other means).
  void reset() noexcept { oks_ = fails_ = 0; }

private:
  std::uint32_t rise_, fall_;
  std::uint32_t oks_ = 0, fails_ = 0;
};

}  // namespace bb
