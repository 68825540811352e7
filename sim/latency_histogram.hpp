#pragma once
/// bb::sim::latency_histogram: a fixed-size, log-bucketed count of durations, so latency
/// quantiles over any number of samples cost a constant amount of memory.
///
/// Bins are four per power of two from 1 µs to about 137 s (a bin [4k, 5k), ..., [7k, 8k)
/// of step k); a quantile is reported as the middle of its bin, within 12.5 % of the exact
/// value (half a step over the smallest value of the first bin of a power). Below
/// 1 µs everything falls into bin 0, above 2^37 ns into the last bin.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <sim/executor.hpp>

namespace bb::sim {

/// Counts of durations in log-spaced bins; merging two is adding their counts.
class latency_histogram {
public:
  static constexpr int sub_bins = 4;       ///< bins per power of two
  static constexpr int min_exponent = 10;  ///< 2^10 ns: the first bin's upper end
  static constexpr int max_exponent = 37;  ///< 2^37 ns (137 s): where the last bin begins
  static constexpr std::size_t bins = (max_exponent - min_exponent) * sub_bins + 2;

  /// Counts one duration `d` (negative counts as zero).
  void add(duration d) noexcept {
    ++counts_[bin_of(d)];
    ++total_;
  }

  /// Adds every count of `other` to this one.
  void merge(const latency_histogram& other) noexcept {
    for (std::size_t i = 0; i < bins; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }

  /// How many durations were counted.
  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }

  /// The q-quantile (0 < q <= 1) as the middle of the bin holding the ceil(q·n)-th smallest
  /// duration; zero when nothing was counted.
  [[nodiscard]] duration quantile(double q) const noexcept {
    if (total_ == 0) return duration{0};
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (static_cast<double>(rank) < q * static_cast<double>(total_)) ++rank;
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bins; ++i) {
      seen += counts_[i];
      if (seen >= rank) return middle(i);
    }
    return middle(bins - 1);
  }

  /// The bin a duration `d` falls into.
  [[nodiscard]] static std::size_t bin_of(duration d) noexcept {
    const auto ns = d.count() <= 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(d.count());
    if (ns < (std::uint64_t{1} << min_exponent)) return 0;
    const int e = std::bit_width(ns) - 1;
    if (e >= max_exponent) return bins - 1;
    const auto sub = static_cast<std::size_t>((ns >> (e - 2)) & 3);
    return static_cast<std::size_t>(e - min_exponent) * sub_bins + sub + 1;
  }

  /// The middle of bin `i` (half of 1 µs for bin 0).
  [[nodiscard]] static duration middle(std::size_t i) noexcept {
    if (i == 0) return duration{1 << (min_exponent - 1)};
    const auto e = static_cast<int>((i - 1) / sub_bins) + min_exponent;
    const auto sub = static_cast<std::int64_t>((i - 1) % sub_bins);
    const std::int64_t step = std::int64_t{1} << (e - 2);
    return duration{(4 + sub) * step + step / 2};
  }

private:
  std::array<std::uint32_t, bins> counts_{};
  std::uint64_t total_ = 0;
};

}  // namespace bb::sim
