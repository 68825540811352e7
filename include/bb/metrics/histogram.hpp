#pragma once
/// bb::metrics::histogram: durations counted into fixed buckets, the way Prometheus
/// histograms are exported (cumulative `le` buckets, `_sum`, `_count`), with one writer.
///
/// Real buckets rather than an average over the last N requests: percentiles can be
/// computed over any window from the exported counts, across instances too. Recording is
/// a short scan of the bounds and two single-writer counter updates.

#include <bb/metrics/counter.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace bb::metrics {

/// The upper bounds of the buckets (seconds), from 0.5 ms to 10 s: the range of a proxied
/// request, from a cached answer on loopback to the default response timeout's reach.
inline constexpr std::array<double, 14> latency_bounds_s = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};

/// Counts of durations per bucket (not cumulative; the exposition makes them so), their
/// sum in nanoseconds and their number.
class histogram {
public:
  static constexpr std::size_t buckets = latency_bounds_s.size() + 1;  ///< the last one is +Inf

  histogram() noexcept = default;
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Counts one duration; only the owning thread may call it.
  void record(std::chrono::nanoseconds d) noexcept {
    const auto ns = d.count() < 0 ? 0 : d.count();
    std::size_t i = 0;
    while (i < latency_bounds_s.size() && static_cast<double>(ns) > latency_bounds_s[i] * 1e9) ++i;
    counts_[i].add();
    sum_ns_.add(static_cast<std::uint64_t>(ns));
  }

  /// Durations counted into bucket `i` (bucket i holds those above bound i-1, up to bound i).
  [[nodiscard]] std::uint64_t count_in(std::size_t i) const noexcept { return counts_[i].value(); }
  /// The sum of every duration counted, in nanoseconds.
  [[nodiscard]] std::uint64_t sum_ns() const noexcept { return sum_ns_.value(); }

private:
  std::array<counter, buckets> counts_;
  counter sum_ns_;
};

/// Bucket counts summed over several histograms (one per worker), for a scrape.
struct histogram_snapshot {
  std::array<std::uint64_t, histogram::buckets> counts{};
  std::uint64_t sum_ns = 0;

  /// Adds `h`'s counts as they are now.
  void add(const histogram& h) noexcept {
    for (std::size_t i = 0; i < histogram::buckets; ++i) counts[i] += h.count_in(i);
    sum_ns += h.sum_ns();
  }
  /// How many durations were counted in all.
  [[nodiscard]] std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
  }
  /// The `q` quantile (0..1) as the upper bound of the bucket it falls in, in seconds, as
  /// Prometheus' histogram_quantile bounds it from above; 0 when nothing was counted, and
  /// the last finite bound when it falls in +Inf.
  [[nodiscard]] double quantile_bound_s(double q) const noexcept {
    const auto n = count();
    if (n == 0) return 0;
    const double want = q * static_cast<double>(n);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < latency_bounds_s.size(); ++i) {
      seen += counts[i];
      if (static_cast<double>(seen) >= want) return latency_bounds_s[i];
    }
    return latency_bounds_s.back();
  }
};

}  // namespace bb::metrics
