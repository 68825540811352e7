#pragma once
/// bb::sim::metrics_watch: counts from the outside what the proxy's metrics count from the
/// inside, and at the end of a run reports every figure where the two differ.
///
/// It hears the structured events of sim/event_decoder.hpp (the proxy's and the checker's
/// traffic to the upstreams, the cluster's state changes) and each request's outcome as its
/// client saw it; never the proxy's counters until the end. Compared per upstream:
///  - attempts: connects, plus request heads sent on (or refused by) a connection that
///    had already carried one (a pooled connection taken);
///  - response heads by class: complete heads the proxy read, framed by Content-Length
///    and by the method of the request each answers;
///  - state changes: flips of the host's up/down state, as the decoder tells them;
///  - retries: at least the heads that another head of the same request followed, at most
///    (over all hosts) attempts less the requests whose head went out;
///  - active checks: connects against verdicts, and heads of 200 read against passes; the
///    end of the run may cut one check per host before its verdict, so that many may be
///    missing;
/// and over the proxy: 429s sent against 429s the clients got, attempts timed out against
/// 504s the clients got.

#include <algorithm>
#include <array>
#include <bb/health/checker.hpp>
#include <bb/proxy/stats.hpp>
#include <bb/upstream/cluster.hpp>
#include <cstdint>
#include <sim/events.hpp>
#include <sim/invariants.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace bb::sim {

class metrics_watch final : public event_sink {
public:
  /// Watches a proxy whose cluster is `hosts`, its upstreams named `names` (in the
  /// cluster's order); subscribe it to the run's events (first); `inv` takes its violations.
  metrics_watch(invariants& inv, const cluster& hosts, std::vector<std::string> names)
      : inv_(inv), hosts_(hosts), names_(std::move(names)), ups_(names_.size()) {}
  metrics_watch(const metrics_watch&) = delete;
  metrics_watch& operator=(const metrics_watch&) = delete;

  void request_resolved(const claim& c, duration) override {
    if (c.status == 504) ++statuses_504_;
    if (c.status == 429) ++statuses_429_;
    if (sent_.erase(c.id)) ++claimed_sent_;
  }
  void connect_started(std::size_t upstream, bool check) override {
    if (check) ++ups_[upstream].checks_started;
    else ++ups_[upstream].attempts;
  }
  void request_sent(const sent_head& h) override {
    if (h.nth > 0) ++ups_[h.upstream].attempts;  // a new connection's attempt was its connect
    auto [at, fresh] = sent_.try_emplace(h.request, h.upstream);
    if (!fresh) ++ups_[at->second].retried_heads, at->second = h.upstream;
  }
  void response_head(std::uint64_t, std::size_t upstream, int status, bool check) override {
    if (!check) ++ups_[upstream].heads[static_cast<std::size_t>(status / 100)];
    else if (status == 200) ++ups_[upstream].checks_passed;
  }
  void host_state(std::size_t upstream, bool) override { ++ups_[upstream].flips; }

  /// Compares the proxy's counters (`stats`: one per worker, summed as a scrape sums them)
  /// and the checker's per host (`checks` empty: no active checks) with the watch's counts;
  /// each difference is a violation.
  void finish(const std::vector<const proxy_stats*>& stats, const std::vector<const check_stats*>& checks) {
    auto sum = [&](auto figure) {
      std::uint64_t n = 0;
      for (const auto* s : stats) n += figure(*s);
      return n;
    };
    std::uint64_t retries = 0, attempts = 0, timeouts = 0;
    for (std::size_t i = 0; i < ups_.size(); ++i) {
      const auto& w = ups_[i];
      const auto& name = names_[i];
      const auto u_attempts = sum([i](const proxy_stats& s) { return s.upstream[i].attempts.value(); });
      const auto u_retries = sum([i](const proxy_stats& s) { return s.upstream[i].retries.value(); });
      equal(name + " attempts", u_attempts, w.attempts);
      for (std::size_t c = 1; c < 6; ++c)
        equal(name + " " + std::to_string(c) + "xx response heads",
              sum([i, c](const proxy_stats& s) { return s.upstream[i].responses[c].value(); }), w.heads[c]);
      equal(name + " state changes", hosts_.health(i).changes.load(std::memory_order_relaxed), w.flips);
      at_least(name + " retries", u_retries, w.retried_heads);
      retries += u_retries;
      attempts += u_attempts;
      timeouts += sum([i](const proxy_stats& s) { return s.upstream[i].timeouts.value(); });
      if (const auto* c = i < checks.size() ? checks[i] : nullptr) {
        const auto verdicts = c->passed.value() + c->failed.value();
        within(name + " active checks with a verdict", verdicts, w.checks_started - std::min(w.checks_started, cut_),
               w.checks_started);
        within(name + " active checks passed", c->passed.value(), w.checks_passed - std::min(w.checks_passed, cut_),
               w.checks_passed);
      } else {
        equal(name + " active checks", w.checks_started, 0);
      }
    }
    const auto sent = static_cast<std::uint64_t>(sent_.size()) + claimed_sent_;
    at_most("retries over every upstream", retries, attempts - std::min(attempts, sent));
    equal("attempts timed out", timeouts, statuses_504_);
    equal("429 answers", sum([](const proxy_stats& s) { return s.rate_limited.value(); }), statuses_429_);
  }

  /// How many figures the watch compared.
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }

private:
  struct up {
    std::uint64_t attempts = 0, flips = 0, retried_heads = 0, checks_started = 0, checks_passed = 0;
    std::array<std::uint64_t, 6> heads{};
  };

  void equal(const std::string& what, std::uint64_t metric, std::uint64_t seen) {
    ++checks_;
    if (metric != seen)
      inv_.violate(
          broken::metrics, 0,
          what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw " + std::to_string(seen));
  }
  void at_least(const std::string& what, std::uint64_t metric, std::uint64_t floor) {
    ++checks_;
    if (metric < floor)
      inv_.violate(broken::metrics, 0,
                   what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw at least " +
                       std::to_string(floor));
  }
  void at_most(const std::string& what, std::uint64_t metric, std::uint64_t ceiling) {
    ++checks_;
    if (metric > ceiling)
      inv_.violate(broken::metrics, 0,
                   what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw at most " +
                       std::to_string(ceiling));
  }
  void within(const std::string& what, std::uint64_t metric, std::uint64_t low, std::uint64_t high) {
    ++checks_;
    if (metric < low || metric > high)
      inv_.violate(broken::metrics, 0,
                   what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw " +
                       std::to_string(low) + (low == high ? "" : " to " + std::to_string(high)));
  }

  invariants& inv_;
  const cluster& hosts_;
  std::vector<std::string> names_;
  std::vector<up> ups_;
  std::unordered_map<std::uint64_t, std::size_t> sent_;  ///< request id -> the host its last head went to
  std::uint64_t claimed_sent_ = 0;                       ///< requests whose head went out and that have their outcome
  std::uint64_t statuses_504_ = 0, statuses_429_ = 0, checks_ = 0;
  static constexpr std::uint64_t cut_ = 1;  ///< checks per host the run's end may cut before their verdict
};

}  // namespace bb::sim
