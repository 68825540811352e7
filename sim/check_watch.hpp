#pragma once
/// bb::sim::check_watch: the active checker's schedule, judged from the checks it starts.
///
/// It taps the checker's own transport. The checker's contract (bb/health/checker.hpp):
/// the first round runs one interval after start, each host's check at the round's start
/// plus a jitter under the spread (a tenth of the interval, at most 1 s); round k starts k
/// intervals after start. So host i's k-th check must start in [kI, kI + spread].

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sim/connection.hpp>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bb::sim {

/// Holds every active check to its round's window, as it starts.
class check_watch final : public transport_tap {
public:
  /// Watches checks of the hosts at `addresses`, named `names`, every `interval` from now.
  check_watch(executor& exec, invariants& inv, std::vector<std::string> names, std::vector<endpoint> addresses,
              duration interval)
      : exec_(exec),
        inv_(inv),
        names_(std::move(names)),
        addresses_(std::move(addresses)),
        counts_(addresses_.size(), 0),
        start_(exec.now()),
        interval_(interval),
        spread_(std::min<duration>(interval / 10, std::chrono::seconds(1))) {}

  void connecting(const endpoint& to) override {
    const auto i = static_cast<std::size_t>(std::find(addresses_.begin(), addresses_.end(), to) - addresses_.begin());
    if (i >= addresses_.size()) return;
    const auto k = static_cast<std::int64_t>(++counts_[i]);
    const auto at = exec_.now() - start_, from = interval_ * k, to_ = from + spread_;
    ++checks_;
    if (at < from || at > to_)
      inv_.violate(broken::check_timing, 0,
                   "check " + std::to_string(k) + " of " + names_[i] + " at " + std::to_string(at.count() / 1'000'000) +
                       " ms, outside [" + std::to_string(from.count() / 1'000'000) + ", " +
                       std::to_string(to_.count() / 1'000'000) + "] ms");
  }
  void wrote(const connection&, const endpoint&, std::span<const const_buffer>) override {}

  /// How many checks were judged.
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }

private:
  executor& exec_;
  invariants& inv_;
  std::vector<std::string> names_;
  std::vector<endpoint> addresses_;
  std::vector<std::uint64_t> counts_;
  duration start_, interval_, spread_;
  std::uint64_t checks_ = 0;
};

}  // namespace bb::sim
