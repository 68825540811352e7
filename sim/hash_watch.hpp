#pragma once
/// bb::sim::hash_watch: the consistent-hash invariants of hash_stability, judged request by
/// request from outside the balancer.
///
/// Consistent hashing promises that a client's upstream (its home) is a function of the
/// client and the set of live upstreams alone, so that when one upstream leaves only the
/// clients it had move, and they move back when it returns. Bounded loads (the policy's
/// documented rule: a host is full when its requests in flight reach
/// ceil(c (m + 1) w / W)) may send a request elsewhere while its home is full, and only then.
///
/// The watch is shown every request's first attempt with what the balancer saw when it
/// picked: the live set and the in-flight counts (read at the pick's instant by the balance
/// watch). A pick that found no host full names the client's home for that live set: a
/// second such pick must agree, else the client moved without cause. A pick that found some
/// host full may go elsewhere only when the home was full, and never to a full host while
/// another had room; those are judged at the end, once every home is known. Then, across
/// live sets: a client whose home was not the upstream that left keeps its home while it is
/// away; one whose home it was comes back (the live set is again all, so the same home).
/// Retries are not judged: a request tried on a host is not eligible for that host again.

#include <algorithm>
#include <bb/core/net.hpp>
#include <bb/lb/consistent_hash.hpp>
#include <cmath>
#include <cstdint>
#include <map>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bb::sim {

/// A set of upstreams by index: element i is true when upstream i is in it.
using host_set = std::vector<bool>;

/// The balancer's state as one pick saw it.
struct pick_state {
  host_set live;                        ///< which upstreams were live
  std::vector<std::int64_t> in_flight;  ///< per upstream
};

class hash_watch {
public:
  /// Judges picks over upstreams named `names` with (reduced) `weights` and load factor
  /// `c`; upstream `leaving` is away from `left_at` until it is up again after `back_at`.
  hash_watch(invariants& inv, std::vector<std::string> names, std::vector<std::uint32_t> weights, double c,
             std::size_t leaving, duration left_at, duration back_at)
      : inv_(inv),
        names_(std::move(names)),
        weights_(std::move(weights)),
        c_(c),
        leaving_(leaving),
        left_at_(left_at),
        back_at_(back_at),
        all_(names_.size(), true),
        without_(all_) {
    without_[leaving_] = false;
  }

  /// Request `id` from `client` went first to `chosen` at `now`, picked in state `s`.
  void first_attempt(std::uint64_t id, const ip_address& client, std::size_t chosen, const pick_state& s,
                     duration now) {
    ++judged_;
    const host_set full = full_hosts(s);
    auto& who = clients_[client];
    if (!s.live[chosen]) {
      inv_.violate(broken::key_moved, id, client.to_string() + " sent to " + names_[chosen] + ", which was not live");
      return;
    }
    if (std::none_of(full.begin(), full.end(), [](bool b) { return b; })) {
      auto [it, fresh] = who.home.try_emplace(s.live, chosen);
      if (!fresh && it->second != chosen)
        inv_.violate(broken::key_moved, id,
                     client.to_string() + " moved from " + names_[it->second] + " to " + names_[chosen] +
                         " with the same upstreams live and none full");
      if (s.live == all_) who.seen |= now < left_at_ ? before : now >= back_at_ ? after : 0;
      if (s.live == without_) who.seen |= during;
      return;
    }
    if (full[chosen] && !subset(s.live, full)) {
      inv_.violate(broken::key_moved, id,
                   client.to_string() + " sent to " + names_[chosen] + ", which was full, while another had room");
      return;
    }
    pending_.push_back({id, client, chosen, s.live, full});
  }

  /// A request's later attempt (not judged).
  void retry() noexcept { ++retries_; }

  /// The end of the run: judges the picks that found a host full, and the moves between
  /// live sets.
  void finish() {
    for (const auto& p : pending_) {
      const auto& who = clients_[p.client];
      const auto it = who.home.find(p.live);
      if (it == who.home.end()) {
        ++unknown_home_;
      } else if (it->second == p.chosen) {
        ++went_home_;
      } else if (p.full[it->second]) {
        ++spilled_;
      } else {
        inv_.violate(broken::key_moved, p.id,
                     p.client.to_string() + " sent to " + names_[p.chosen] + " while its home " + names_[it->second] +
                         " had room");
      }
    }
    moved_to_.assign(names_.size(), 0);
    for (const auto& [client, who] : clients_) {
      const auto a = who.home.find(all_), w = who.home.find(without_);
      if (a == who.home.end()) continue;
      if (a->second == leaving_) {
        ++keys_;
        if (w != who.home.end()) ++moved_, ++moved_to_[w->second];
        if (who.seen & after) ++returned_;
        if ((who.seen & (before | during | after)) == (before | during | after)) ++full_circle_;
        continue;
      }
      if (w == who.home.end()) continue;
      ++stayers_;
      if (w->second != a->second)
        inv_.violate(broken::key_moved, 0,
                     client.to_string() + " moved from " + names_[a->second] + " to " + names_[w->second] + " when " +
                         names_[leaving_] + ", not its upstream, left");
    }
    judge_displacement();
  }

  /// The spread of the leaving host's keys over the others, judged after finish(): each
  /// moved key goes to the host owning the next ring point past it, so host i should get a
  /// share w_i / (W - w_leaving). The tolerance is 4.5 standard deviations of the count: a
  /// binomial over the n moved keys, widened by the ring's own spread (the shares of the
  /// leaving host's K = 160 w random arcs vary by about 2 p (1 - p) / K), so that the count's
  /// variance is n p (1 - p) (1 + 2 n / K). Below 20 moved keys nothing is judged.
  void judge_displacement() {
    if (moved_ < 20) return;
    std::uint64_t rest = 0;
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (i != leaving_) rest += weights_[i];
    const double n = static_cast<double>(moved_);
    const double k = static_cast<double>(consistent_hash_balancer::points_per_weight) * weights_[leaving_];
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (i == leaving_) continue;
      const double p = static_cast<double>(weights_[i]) / static_cast<double>(rest);
      const double expected = n * p, tolerance = 4.5 * std::sqrt(n * p * (1 - p) * (1 + 2 * n / k)) + 1;
      ++displacement_checks_;
      if (std::abs(static_cast<double>(moved_to_[i]) - expected) > tolerance)
        inv_.violate(broken::misbalanced, 0,
                     std::to_string(moved_to_[i]) + " of the " + std::to_string(moved_) + " clients that left " +
                         names_[leaving_] + " moved to " + names_[i] + ", weight " + std::to_string(weights_[i]) +
                         " of " + std::to_string(rest) + " (expected " + std::to_string(expected).substr(0, 6) +
                         " +- " + std::to_string(tolerance).substr(0, 5) + ")");
    }
  }

  /// What the watch counted, by name (the report's tallies).
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> tallies() const {
    const auto& x = names_[leaving_];
    std::vector<std::pair<std::string, std::uint64_t>> t{
        {"hash: client IPs seen", clients_.size()},
        {"hash: first attempts judged", judged_},
        {"hash: retries (not judged)", retries_},
        {"hash: picks that found a host full, went home anyway", went_home_},
        {"hash: picks diverted while the home was full (excused)", spilled_},
        {"hash: picks that found a host full, home never seen", unknown_home_},
        {"hash: clients whose home was " + x, keys_},
        {"hash: of those, seen while " + x + " was away (moved)", moved_},
    };
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (i != leaving_) t.emplace_back("hash: moved to " + names_[i], moved_to_.empty() ? 0 : moved_to_[i]);
    t.emplace_back("hash: of those, back on " + x + " after it returned", returned_);
    t.emplace_back("hash: of those, seen home, away and back home", full_circle_);
    t.emplace_back("hash: other clients seen with all live and while " + x + " was away (all stayed)", stayers_);
    t.emplace_back("hash: shares of the moved clients judged against weight", displacement_checks_);
    return t;
  }

  [[nodiscard]] std::uint64_t keys() const noexcept { return keys_; }
  [[nodiscard]] std::uint64_t moved() const noexcept { return moved_; }
  [[nodiscard]] std::uint64_t returned() const noexcept { return returned_; }
  [[nodiscard]] std::uint64_t stayers() const noexcept { return stayers_; }

private:
  enum phase : std::uint8_t { before = 1, during = 2, after = 4 };

  struct client_state {
    std::map<host_set, std::size_t> home;  ///< by live set
    std::uint8_t seen = 0;                 ///< phases with a pick that named its home
  };
  struct pending {
    std::uint64_t id;
    ip_address client;
    std::size_t chosen;
    host_set live, full;
  };

  /// True when every member of `a` is in `b`.
  static bool subset(const host_set& a, const host_set& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i] && !b[i]) return false;
    return true;
  }

  /// The eligible hosts that were full by the bounded-load rule, computed as the policy
  /// documents it (and in the same floating-point steps).
  [[nodiscard]] host_set full_hosts(const pick_state& s) const {
    std::int64_t m = 0;
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (s.live[i]) m += std::max<std::int64_t>(s.in_flight[i], 0), w += weights_[i];
    host_set full(names_.size(), false);
    if (c_ == 0 || w == 0) return full;
    const double per_weight = c_ * static_cast<double>(m + 1) / static_cast<double>(w);
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (s.live[i] && !(static_cast<double>(s.in_flight[i]) < std::ceil(per_weight * weights_[i]))) full[i] = true;
    return full;
  }

  invariants& inv_;
  std::vector<std::string> names_;
  std::vector<std::uint32_t> weights_;
  double c_;
  std::size_t leaving_;
  duration left_at_, back_at_;
  host_set all_, without_;  // every upstream; every one but the leaving one
  std::map<ip_address, client_state> clients_;
  std::vector<pending> pending_;
  std::uint64_t judged_ = 0, retries_ = 0, went_home_ = 0, spilled_ = 0, unknown_home_ = 0;
  std::uint64_t keys_ = 0, moved_ = 0, returned_ = 0, full_circle_ = 0, stayers_ = 0;
  std::vector<std::uint64_t> moved_to_;
  std::uint64_t displacement_checks_ = 0;
};

}  // namespace bb::sim
