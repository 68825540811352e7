#pragma once
/// bb::sim::check_watch: the active checker's schedule and its rise rule, judged from the
/// checks it starts and the answers it reads.
///
/// It hears the checker's connects and verdict heads and the cluster's state changes from
/// sim/event_decoder.hpp. The checker's contract (bb/health/checker.hpp):
/// the first round runs one interval after start, each host's check at the round's start
/// plus a jitter under the spread (a tenth of the interval, at most 1 s); round k starts k
/// intervals after start. So host i's k-th check must start in [kI, kI + spread].
///
/// Rise: a host the cluster has down comes up only after `rise` checks in a row passed
/// (a 200 head read) since it went down. The decoder tells a flip before whatever follows
/// it; the watch sees every pass but only the failures that were answers (a non-200 head),
/// so its count of passes in a row is never below the checker's: it may miss a violation,
/// never invent one.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sim/events.hpp>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bb::sim {

/// Holds every active check to its round's window, as it starts, and every comeback to
/// the rise rule.
class check_watch final : public event_sink {
public:
  /// Watches checks of the hosts named `names` (in the cluster's order) every `interval`
  /// from now, `rise` passes in a row bringing a host up; subscribe it to the decoder's
  /// events. `up` is each host's state now.
  check_watch(executor& exec, invariants& inv, std::vector<std::string> names, duration interval, std::uint32_t rise)
      : exec_(exec),
        inv_(inv),
        names_(std::move(names)),
        counts_(names_.size(), 0),
        rise_(rise),
        state_(names_.size()),
        start_(exec.now()),
        interval_(interval),
        spread_(std::min<duration>(interval / 10, std::chrono::seconds(1))) {}

  void connect_started(std::size_t i, bool check) override {
    if (!check) return;
    const auto k = static_cast<std::int64_t>(++counts_[i]);
    const auto at = exec_.now() - start_, from = interval_ * k, to = from + spread_;
    ++checks_;
    if (at < from || at > to)
      inv_.violate(broken::check_timing, 0,
                   "check " + std::to_string(k) + " of " + names_[i] + " at " + std::to_string(at.count() / 1'000'000) +
                       " ms, outside [" + std::to_string(from.count() / 1'000'000) + ", " +
                       std::to_string(to.count() / 1'000'000) + "] ms");
  }
  void response_head(std::uint64_t, std::size_t i, int status, bool check) override {
    if (!check) return;
    auto& h = state_[i];
    h.in_a_row = status == 200 ? h.in_a_row + 1 : 0;
  }
  /// Judges each comeback: `rise` passes in a row since the host went down.
  void host_state(std::size_t i, bool up) override {
    auto& h = state_[i];
    if (!up) {
      h.in_a_row = 0;
      return;
    }
    ++checks_;
    if (h.in_a_row < rise_)
      inv_.violate(broken::early_rise, 0,
                   names_[i] + " came up after " + std::to_string(h.in_a_row) + " passed checks in a row (rise " +
                       std::to_string(rise_) + ")");
  }

  /// How many checks were judged.
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }

private:
  struct rise_count {
    std::uint32_t in_a_row = 0;  ///< passes in a row since it last went down
  };

  executor& exec_;
  invariants& inv_;
  std::vector<std::string> names_;
  std::vector<std::uint64_t> counts_;
  std::uint32_t rise_;
  std::vector<rise_count> state_;
  duration start_, interval_, spread_;
  std::uint64_t checks_ = 0;
};

}  // namespace bb::sim
