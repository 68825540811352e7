#pragma once
/// bb::sim::balance_watch: where the proxy's balancer sends requests, how long clients
/// wait, and whether that is what the policy promises (the balancing scenarios).
///
/// It taps the proxy's upstream transport in front of the failover watch (to which it
/// passes everything on) and counts request heads per upstream: over the whole run, from
/// the scenario's event (a slowdown) on, and from the event plus the policies' settling
/// time on. It reads the balancer's state at the instant of each pick: a pick is followed,
/// within the same event, by the connect it starts (opened) or the write on the pooled
/// connection it took (wrote), so the state read there is the pick's, plus the attempt the
/// pick itself counted. hash_stability's judge (hash_watch) is fed from there.
///
/// Checked at the end, with the bounds the scenario sets for the policy: in slow_upstream,
/// the slow upstream's share from the event plus settle time on; in weighted, every
/// upstream's share of the run against weight / total weight.

#include <algorithm>
#include <bb/lb/policy.hpp>
#include <bb/upstream/cluster.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <sim/client.hpp>
#include <sim/connection.hpp>
#include <sim/executor.hpp>
#include <sim/hash_watch.hpp>
#include <sim/http_lite.hpp>
#include <sim/invariants.hpp>
#include <sim/scenario.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bb::sim {

/// What a balancing run showed: requests per upstream and the clients' latency.
struct balance_report {
  bb::balance_policy policy = bb::balance_policy::random;
  balance_setup setup;
  std::vector<std::string> names;
  std::vector<std::uint32_t> weights;
  /// Request heads sent to each upstream: in the whole run, from setup.at on, and from
  /// setup.at + setup.settle on.
  std::vector<std::uint64_t> total, after, settled;
  /// Client latency (issue to response) of the requests issued from setup.at on in
  /// slow_upstream, of all requests otherwise.
  std::uint64_t samples = 0;
  duration p50{0}, p99{0}, max{0};

  /// Upstream i's share of `counts`.
  [[nodiscard]] static double share(const std::vector<std::uint64_t>& counts, std::size_t i) {
    const auto sum = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
    return sum ? static_cast<double>(counts[i]) / static_cast<double>(sum) : 0.0;
  }
  /// Upstream i's weight over the total weight.
  [[nodiscard]] double weight_share(std::size_t i) const {
    return static_cast<double>(weights[i]) / static_cast<double>(std::accumulate(weights.begin(), weights.end(), 0u));
  }
};

class balance_watch final : public transport_tap {
public:
  /// Watches the proxy balancing with `balance` over `hosts`, its upstreams at `addresses`
  /// (as in `sc`), subscribed to the proxy's transport.
  balance_watch(executor& exec, invariants& inv, const scenario& sc, const cluster& hosts, const balancer& balance,
                std::vector<endpoint> addresses, bool passive_retry)
      : exec_(exec),
        inv_(inv),
        hosts_(hosts),
        balance_(balance),
        addresses_(std::move(addresses)),
        passive_retry_(passive_retry) {
    rep_.policy = sc.balance;
    rep_.setup = *sc.balancing;
    for (const auto& u : sc.upstreams) rep_.names.push_back(u.name), rep_.weights.push_back(u.weight);
    rep_.total.assign(addresses_.size(), 0);
    rep_.after = rep_.settled = rep_.total;
    if (rep_.setup.what == balance_setup::kind::hash_stability) {
      auto w = rep_.weights;
      std::uint32_t g = 0;
      for (auto x : w) g = std::gcd(g, x);
      for (auto& x : w) x /= g;  // as the policy reduces them
      hash_.emplace(inv_, rep_.names, std::move(w), bb::balancer_options{}.hash_load_factor, rep_.setup.target,
                    rep_.setup.at, rep_.setup.back);
    }
  }
  balance_watch(const balance_watch&) = delete;
  balance_watch& operator=(const balance_watch&) = delete;

  /// Where the clients append their latencies.
  [[nodiscard]] std::vector<latency_sample>& latencies() noexcept { return latencies_; }

  // ---- the tap on the proxy's upstream transport ----------------------------------------

  void connecting(const endpoint&) override {}

  void opened(const connection& c, const endpoint& to) override {
    if (const auto i = index_of(to); hash_ && i < addresses_.size()) picks_[c.id] = snapshot(i);
  }

  void wrote(const connection& c, const endpoint& to, std::span<const const_buffer> bufs) override {
    const auto i = index_of(to);
    if (i >= addresses_.size() || bufs.empty()) return;
    const std::string_view head(bufs[0].data(), bufs[0].size());
    const auto id = http_lite::request_of(head).id;
    if (id == 0) return;  // body bytes that follow a head
    const auto now = exec_.now();
    ++rep_.total[i];
    if (now >= rep_.setup.at) ++rep_.after[i];
    if (now >= rep_.setup.at + rep_.setup.settle) ++rep_.settled[i];
    if (!hash_) return;
    // A fresh connection's first head belongs to the pick that opened it; any other head
    // went out on a pooled connection in the same event as its pick.
    pick_state s;
    if (const auto it = picks_.find(c.id); it != picks_.end()) {
      s = it->second;
      picks_.erase(it);
    } else {
      s = snapshot(i);
    }
    if (id >= attempts_.size()) attempts_.resize(std::max<std::size_t>(id + 1, attempts_.size() * 2), 0);
    if (attempts_[id]) return hash_->retry();
    attempts_[id] = 1;
    const auto client = forwarded_for(head);
    if (!client) return inv_.violate(broken::key_moved, id, "the upstream head lacks X-Forwarded-For");
    hash_->first_attempt(id, *client, i, s, now);
  }

  // ---- the end of the run -----------------------------------------------------------------

  /// Computes the report and checks what the scenario promises (call once, after the run).
  void finish() {
    std::vector<duration> lat;
    const bool slow = rep_.setup.what == balance_setup::kind::slow_upstream;
    for (const auto& s : latencies_)
      if (!slow || s.issued >= rep_.setup.at) lat.push_back(s.latency);
    rep_.samples = lat.size();
    if (!lat.empty()) {
      auto at = [&](std::size_t pct) {
        const auto k = std::min(lat.size() - 1, lat.size() * pct / 100);
        std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(k), lat.end());
        return lat[k];
      };
      rep_.p50 = at(50);
      rep_.p99 = at(99);
      rep_.max = *std::max_element(lat.begin(), lat.end());
    }
    const auto& b = rep_.setup;
    if (b.what == balance_setup::kind::slow_upstream && b.max_slow_share > 0) {
      const double share = balance_report::share(rep_.settled, b.target);
      if (!(share < b.max_slow_share))
        inv_.violate(broken::misbalanced, 0,
                     "the slow " + rep_.names[b.target] + " took " + percent(share) + " of the requests from " +
                         std::to_string((b.at + b.settle).count() / 1'000'000) + " ms on (bound " +
                         percent(b.max_slow_share) + ")");
    }
    if (b.what == balance_setup::kind::weighted && b.share_tolerance > 0) {
      for (std::size_t i = 0; i < rep_.names.size(); ++i) {
        const double share = balance_report::share(rep_.total, i), want = rep_.weight_share(i);
        if (!(std::abs(share - want) <= b.share_tolerance))
          inv_.violate(broken::misbalanced, 0,
                       rep_.names[i] + " (weight " + std::to_string(rep_.weights[i]) + ") took " + percent(share) +
                           " of the requests, not " + percent(want) + " within " + percent(b.share_tolerance));
      }
    }
    if (hash_) hash_->finish();
  }

  [[nodiscard]] const balance_report& report() const noexcept { return rep_; }
  /// hash_stability's counts (empty otherwise).
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> tallies() const {
    return hash_ ? hash_->tallies() : std::vector<std::pair<std::string, std::uint64_t>>{};
  }
  [[nodiscard]] const hash_watch* hashing() const noexcept { return hash_ ? &*hash_ : nullptr; }

private:
  [[nodiscard]] std::size_t index_of(const endpoint& e) const noexcept {
    std::size_t i = 0;
    while (i < addresses_.size() && !(addresses_[i] == e)) ++i;
    return i;
  }

  /// The balancer's state now, less the attempt on `chosen` that the pick just counted.
  [[nodiscard]] pick_state snapshot(std::size_t chosen) const {
    pick_state s;
    const auto now = exec_.now();
    s.live.resize(addresses_.size());
    s.in_flight.resize(addresses_.size());
    for (std::size_t i = 0; i < addresses_.size(); ++i) {
      s.live[i] = hosts_.live(i, now, passive_retry_);
      s.in_flight[i] = balance_.in_flight(i) - (i == chosen ? 1 : 0);
    }
    return s;
  }

  /// The client the proxy named in X-Forwarded-For (the clients send none of their own).
  static std::optional<ip_address> forwarded_for(std::string_view head) {
    constexpr std::string_view name = "\r\nX-Forwarded-For: ";
    const auto at = head.find(name);
    if (at == std::string_view::npos) return std::nullopt;
    const auto value = head.substr(at + name.size());
    return ip_address::parse(value.substr(0, value.find("\r\n")));
  }

  static std::string percent(double x) {
    const auto tenths = static_cast<long long>(x * 1000 + 0.5);
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " %";
  }

  executor& exec_;
  invariants& inv_;
  const cluster& hosts_;
  const balancer& balance_;
  std::vector<endpoint> addresses_;
  bool passive_retry_;
  balance_report rep_;
  std::vector<latency_sample> latencies_;
  std::optional<hash_watch> hash_;
  std::unordered_map<std::uint64_t, pick_state> picks_;  ///< by connection id, until its first head
  std::vector<std::uint8_t> attempts_;                   ///< 1: a head of that request id was seen
};

}  // namespace bb::sim
