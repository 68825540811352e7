#pragma once
/// bb::sim::check_watch: the active checker's schedule and its rise rule, judged from the
/// checks it starts and the answers it reads.
///
/// It taps the checker's own transport. The checker's contract (bb/health/checker.hpp):
/// the first round runs one interval after start, each host's check at the round's start
/// plus a jitter under the spread (a tenth of the interval, at most 1 s); round k starts k
/// intervals after start. So host i's k-th check must start in [kI, kI + spread].
///
/// Rise: a host the cluster has down comes up only after `rise` checks in a row passed
/// (a 200 head read) since it went down. The watch reads the cluster's state before each
/// event of the checker's transport, so a flip is seen before whatever follows it; it
/// sees every pass but only the failures that were answers (a non-200 head), so its count
/// of passes in a row is never below the checker's: it may miss a violation, never invent one.

#include <algorithm>
#include <bb/upstream/cluster.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <sim/connection.hpp>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bb::sim {

/// Holds every active check to its round's window, as it starts, and every comeback to
/// the rise rule.
class check_watch final : public transport_tap {
public:
  /// Watches checks of the hosts at `addresses`, named `names`, in `hosts`, every
  /// `interval` from now, `rise` passes in a row bringing a host up.
  check_watch(executor& exec, invariants& inv, std::vector<std::string> names, std::vector<endpoint> addresses,
              duration interval, const cluster& hosts, std::uint32_t rise)
      : exec_(exec),
        inv_(inv),
        names_(std::move(names)),
        addresses_(std::move(addresses)),
        counts_(addresses_.size(), 0),
        hosts_(hosts),
        rise_(rise),
        state_(addresses_.size()),
        start_(exec.now()),
        interval_(interval),
        spread_(std::min<duration>(interval / 10, std::chrono::seconds(1))) {
    for (std::size_t i = 0; i < state_.size(); ++i) state_[i].up = hosts_.live(i, duration{0}, false);
  }

  void connecting(const endpoint& to) override {
    poll();
    const auto i = index_of(to);
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
  void opened(const connection& c, const endpoint& to) override {
    poll();
    if (const auto i = index_of(to); i < addresses_.size()) conns_[c.id] = {i, {}};
  }
  void wrote(const connection&, const endpoint&, std::span<const const_buffer>) override { poll(); }
  void read(const connection& c, const endpoint&, std::string_view bytes) override {
    poll();
    const auto it = conns_.find(c.id);
    if (it == conns_.end()) return;
    auto& [i, head] = it->second;
    head.append(bytes);
    if (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) return;
    int status = 0;
    if (head.size() >= 12 && head.starts_with("HTTP/1.")) std::from_chars(head.data() + 9, head.data() + 12, status);
    auto& h = state_[i];
    h.in_a_row = status == 200 ? h.in_a_row + 1 : 0;
    conns_.erase(it);  // judged: what follows on it does not count
  }
  void freed(const connection& c) override { conns_.erase(c.id); }

  /// Reads the cluster's state once more (at the end of the run).
  void finish() { poll(); }

  /// How many checks were judged.
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }

private:
  struct host_state {
    bool up = true;
    std::uint32_t in_a_row = 0;  ///< passes in a row since it last went down
  };

  [[nodiscard]] std::size_t index_of(const endpoint& e) const noexcept {
    return static_cast<std::size_t>(std::find(addresses_.begin(), addresses_.end(), e) - addresses_.begin());
  }

  /// Finds the hosts that went down or came up since the last look; judges each comeback.
  void poll() {
    for (std::size_t i = 0; i < state_.size(); ++i) {
      auto& h = state_[i];
      const bool now_up = hosts_.live(i, duration{0}, false);
      if (now_up == h.up) continue;
      h.up = now_up;
      if (!now_up) {
        h.in_a_row = 0;
        continue;
      }
      ++checks_;
      if (h.in_a_row < rise_)
        inv_.violate(broken::early_rise, 0,
                     names_[i] + " came up after " + std::to_string(h.in_a_row) + " passed checks in a row (rise " +
                         std::to_string(rise_) + ")");
    }
  }

  executor& exec_;
  invariants& inv_;
  std::vector<std::string> names_;
  std::vector<endpoint> addresses_;
  std::vector<std::uint64_t> counts_;
  const cluster& hosts_;
  std::uint32_t rise_;
  std::vector<host_state> state_;
  std::unordered_map<std::uint64_t, std::pair<std::size_t, std::string>> conns_;  ///< open checks: host, head so far
  duration start_, interval_, spread_;
  std::uint64_t checks_ = 0;
};

}  // namespace bb::sim
