#pragma once
/// bb::random_balancer: picks an upstream uniformly at random among the live ones (the
/// original balancebeam's policy); the random source is injected so simulated runs replay.

#include <bb/core/random.hpp>
#include <bb/upstream/cluster.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bb {

/// The hosts a request has already been tried on, so a retry goes elsewhere.
class tried_set {
public:
  explicit tried_set(std::size_t n) : bits_((n + 63) / 64) {}
  void add(std::size_t i) noexcept { bits_[i / 64] |= std::uint64_t{1} << (i % 64); }
  [[nodiscard]] bool contains(std::size_t i) const noexcept { return bits_[i / 64] >> (i % 64) & 1; }

private:
  std::vector<std::uint64_t> bits_;
};

/// Uniform choice among the cluster's live hosts that were not tried yet.
class random_balancer {
public:
  /// The index of the host for the next attempt, or nullopt when no live host is left.
  /// `passive_retry`: dead hosts whose backoff has run out count as live.
  std::optional<std::size_t> pick(const cluster& c, rng& r, std::int64_t now_ns, bool passive_retry,
                                  const tried_set& tried) const {
    // Draw first, check after: with every host live (the usual case) one draw suffices
    // and nothing is collected.
    const std::size_t n = c.size();
    const std::size_t first = static_cast<std::size_t>(r.below(n));
    if (!tried.contains(first) && c.live(first, now_ns, passive_retry)) return first;
    std::size_t candidates = 0;
    for (std::size_t i = 0; i < n; ++i) candidates += !tried.contains(i) && c.live(i, now_ns, passive_retry);
    if (candidates == 0) return std::nullopt;
    auto k = r.below(candidates);
    for (std::size_t i = 0; i < n; ++i)
      if (!tried.contains(i) && c.live(i, now_ns, passive_retry) && k-- == 0) return i;
    return std::nullopt;
  }
};

}  // namespace bb
