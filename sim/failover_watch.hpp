#pragma once
/// bb::sim::failover_watch: the health invariants, checked as the proxy's traffic happens,
/// and how long each kind of failure took to detect and to recover from.
///
/// It hears the proxy's connects and request heads as structured events (sim/events.hpp;
/// the active checker's are told apart, so checks are not traffic), hears
/// the faults from the world and the proxy's "is down" log lines, and judges the client
/// outcomes the scenario does not allow outright:
/// - a non-idempotent request whose bytes went out on a connection that a crash reset may
///   fail: the proxy cannot know whether the upstream acted on it, so it must not replay it;
/// - a 500 may reach a client only from an upstream that answers 500 everywhere;
/// - a 502 is legitimate only for a request alive while no upstream was (from the last
///   crash until the recovery bound after the first restart), and within the error bound;
/// any other failure is a violation. With active checks on, client traffic to a crashed or
/// 500-answering upstream must stop within the detection bound (the interval, the checker's
/// jitter, a slack of 50 ms for round trips), and a restarted upstream must get a request
/// within the recovery bound (the same, plus twenty mean gaps between the requests that
/// pick it: the run's load decides how soon one comes).

#include <algorithm>
#include <bb/core/log.hpp>
#include <bb/proxy/config.hpp>
#include <charconv>
#include <cstdint>
#include <sim/events.hpp>
#include <sim/executor.hpp>
#include <sim/host.hpp>
#include <sim/id_window.hpp>
#include <sim/invariants.hpp>
#include <sim/scenario.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bb::sim {

/// A detection or recovery time: the worst one seen in a run, against its bound.
struct figure {
  std::string name;
  duration max{0};
  std::uint64_t samples = 0;
  duration bound{0};  ///< 0: reported, not checked
};

class failover_watch final : public event_sink {
public:
  /// Watches the upstreams of `sc` (in its order) behind a proxy configured by `cfg`;
  /// subscribe it to the decoder's events.
  failover_watch(executor& exec, invariants& inv, const scenario& sc, const proxy_config& cfg)
      : exec_(exec), inv_(inv), ups_(sc.upstreams.size()), load_end_(sc.length) {
    using namespace std::chrono_literals;
    for (std::size_t i = 0; i < ups_.size(); ++i) ups_[i].name = sc.upstreams[i].name;
    active_ = cfg.health.active();
    if (active_) {
      const duration interval = cfg.health.interval;
      const duration spread = std::min<duration>(interval / 10, 1s);
      detect_ = interval + spread + 50ms;
      const double gap_ns = 1e9 * static_cast<double>(ups_.size()) / std::max(sc.clients.rate, 1.0);
      recover_ = detect_ + duration(static_cast<std::int64_t>(20 * gap_ns));
    }
    error_ = cfg.upstream_connect_timeout;
    figs_ = {{"detect: crash→marked down", {}, 0, {}},
             {"detect: crash→last request to it", {}, 0, active_ ? detect_ : duration{0}},
             {"detect: 500s→marked down", {}, 0, {}},
             {"detect: 500s→last request to it", {}, 0, active_ ? detect_ : duration{0}},
             {"detect: 500s→last 500 at a client", {}, 0, {}},
             {"recover: restart→first request", {}, 0, recover_},
             {"all down: request→502", {}, 0, error_}};
    inv_.add_judge([this](const claim& c) { return judge(c.id, c.what, c.status); });
  }
  failover_watch(const failover_watch&) = delete;
  failover_watch& operator=(const failover_watch&) = delete;

  // ---- the proxy's traffic to its upstreams ----------------------------------------------

  void connect_started(std::size_t i, bool check) override {
    if (!check) traffic(i, false);
  }

  void request_sent(const sent_head& h) override {
    if (h.refused) return;  // nothing went out
    traffic(h.upstream, true);
    sent_.forget_below(inv_.oldest_unresolved());
    auto* slot = sent_.at(h.request);
    if (!slot) return;  // a head for a request its client already has an outcome for
    *slot = {h.conn, h.upstream, h.method == "POST", true};
  }

  // ---- what the world and the proxy's log say -------------------------------------------

  /// Upstream `i`, on host `h`, is about to crash.
  void crashing(std::size_t i, const host& h) {
    const auto now = exec_.now();
    for (const auto& e : h.ends) crashed_conns_.insert(e.first >> 1);
    auto& u = ups_[i];
    expect_traffic_by(u, now);
    u.dead = true;
    u.dead_since = now;
    u.awaiting_down = true;
    if (active_) ++figs_[crash_traffic].samples;
    if (std::all_of(ups_.begin(), ups_.end(), [](const up& x) { return x.dead; }))
      all_down_.push_back({now, duration::max()});
  }

  /// Upstream `i` was started again.
  void restarted(std::size_t i) {
    const auto now = exec_.now();
    auto& u = ups_[i];
    if (u.awaiting_down) ++tallies_[unnoticed];
    u.dead = u.awaiting_down = false;
    u.restarted_at = now;
    u.awaiting_traffic = active_;  // without active checks it comes back after a backoff
    if (!all_down_.empty() && all_down_.back().to == duration::max()) all_down_.back().to = now + recover_;
  }

  /// Upstream `i` answers 500 to everything from now on.
  void answering_500(std::size_t i) {
    auto& u = ups_[i];
    u.bad = u.awaiting_bad_down = true;
    u.bad_since = exec_.now();
    ++figs_[bad_traffic].samples;
    ++figs_[bad_client].samples;
  }

  /// The proxy's log: records "upstream <name> is down: <why>" as detections.
  void log_line(std::string_view line) {
    constexpr std::string_view pre = "upstream ", mark = " is down: ";
    if (!line.starts_with(pre)) return;
    const auto at = line.find(mark);
    if (at == std::string_view::npos) return;
    const auto name = line.substr(pre.size(), at - pre.size());
    for (auto& u : ups_) {
      if (u.name != name) continue;
      const auto now = exec_.now();
      if (u.awaiting_down) sample(crash_down, now - u.dead_since), u.awaiting_down = false;
      if (u.awaiting_bad_down) sample(bad_down, now - u.bad_since), u.awaiting_bad_down = false;
    }
  }

  /// The load is over: a restarted upstream still waiting for traffic must be in time.
  /// Clients issue nothing after the scenario's length, so only the time up to then counts:
  /// a host restarted less than the recovery bound before it had no chance to be late.
  void load_over() {
    for (auto& u : ups_) expect_traffic_by(u, std::min(exec_.now(), load_end_));
  }

  [[nodiscard]] const std::vector<figure>& figures() const noexcept { return figs_; }
  /// Counts of the failures the watch excused, and of other notable events, by name.
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> tallies() const {
    static constexpr std::string_view names[] = {
        "non-idempotent requests cut by a crash (excused)", "500s passed through before detection (excused)",
        "502s while no upstream was live (excused)", "outages over before they were detected",
        "retries of a dead upstream after its backoff"};
    std::vector<std::pair<std::string, std::uint64_t>> t;
    for (std::size_t k = 0; k < tally_count; ++k) t.emplace_back(names[k], tallies_[k]);
    return t;
  }

private:
  enum fig_index : std::size_t { crash_down, crash_traffic, bad_down, bad_traffic, bad_client, restore, all_down_502 };
  enum tally_index : std::size_t { cut_by_crash, passed_500, no_upstream_502, unnoticed, backoff_retry, tally_count };

  struct up {
    std::string name;
    bool dead = false, awaiting_down = false, awaiting_traffic = false;
    bool bad = false, awaiting_bad_down = false;
    duration dead_since{0}, restarted_at{0}, bad_since{0};
  };
  struct window {
    duration from, to;
  };

  void sample(std::size_t f, duration d) {
    auto& g = figs_[f];
    ++g.samples;
    g.max = std::max(g.max, d);
  }
  /// Raises `f`'s worst case to `d` (a late event of an episode already counted).
  bool worse(std::size_t f, duration d) {
    auto& g = figs_[f];
    g.max = std::max(g.max, d);
    return g.bound.count() > 0 && d > g.bound;
  }

  /// Client traffic (a connect, or a request head when `request`) to upstream `i`, now.
  void traffic(std::size_t i, bool request) {
    auto& u = ups_[i];
    const auto now = exec_.now();
    if (u.dead) {
      if (!active_) {
        if (!u.awaiting_down) ++tallies_[backoff_retry];
      } else if (worse(crash_traffic, now - u.dead_since)) {
        inv_.violate(broken::late_detection, 0,
                     "client traffic to " + u.name + " " + ms(now - u.dead_since) + " after its crash (bound " +
                         ms(detect_) + ")");
      }
    }
    if (!request) return;
    if (u.bad && active_ && worse(bad_traffic, now - u.bad_since))
      inv_.violate(broken::late_detection, 0,
                   "a request sent to " + u.name + " " + ms(now - u.bad_since) +
                       " after it began answering 500 (bound " + ms(detect_) + ")");
    if (u.awaiting_traffic && !u.dead) {
      u.awaiting_traffic = false;
      sample(restore, now - u.restarted_at);
      if (now - u.restarted_at > recover_)
        inv_.violate(broken::late_recovery, 0,
                     "first request to " + u.name + " " + ms(now - u.restarted_at) + " after its restart (bound " +
                         ms(recover_) + ")");
    }
  }

  void expect_traffic_by(up& u, duration now) {
    if (!u.awaiting_traffic) return;
    u.awaiting_traffic = false;
    if (now - u.restarted_at > recover_) {
      sample(restore, now - u.restarted_at);
      inv_.violate(broken::late_recovery, 0,
                   "no request reached " + u.name + " in the " + ms(now - u.restarted_at) +
                       " after its restart (bound " + ms(recover_) + ")");
    }
  }

  bool judge(std::uint64_t id, outcome, int status) {
    const auto now = exec_.now();
    const auto* kept = sent_.find(id);
    const last_head sent = kept ? *kept : last_head{};
    if (sent.post && crashed_conns_.contains(sent.conn)) {
      ++tallies_[cut_by_crash];
      return true;
    }
    if (status == 500 && sent.sent && ups_[sent.upstream].bad) {
      ++tallies_[passed_500];
      worse(bad_client, now - ups_[sent.upstream].bad_since);
      return true;
    }
    const auto issued = inv_.issued_at(id);
    if (status == 502) {
      for (const auto& w : all_down_) {
        if (issued > w.to || now < w.from) continue;
        ++tallies_[no_upstream_502];
        sample(all_down_502, now - issued);
        if (now - issued > error_)
          inv_.violate(broken::late_error, id,
                       "a 502 " + ms(now - issued) + " after the request (bound " + ms(error_) + ")");
        return true;
      }
    }
    // Not excused: say what the proxy did with it, for the report.
    std::string what = "issued " + ms(now - issued) + " before; ";
    if (!sent.sent) what += "its head was never sent to an upstream";
    else
      what += std::string(sent.post ? "a POST" : "a GET or HEAD") + " last sent to " + ups_[sent.upstream].name +
              " on connection " + std::to_string(sent.conn) +
              (crashed_conns_.contains(sent.conn) ? ", which a crash reset" : "");
    inv_.note(what);
    return false;
  }

  static std::string ms(duration d) {
    char buf[32];
    const auto us = d.count() / 1000;
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, us / 1000);
    *p++ = '.';
    for (int k = 100; k > 0; k /= 10) *p++ = static_cast<char>('0' + us % 1000 / k % 10);
    return std::string(buf, p) + " ms";
  }

  executor& exec_;
  invariants& inv_;
  std::vector<up> ups_;
  bool active_ = false;
  duration detect_{0}, recover_{0}, error_{0};
  duration load_end_;  // when clients stop issuing requests
  std::vector<figure> figs_;
  std::uint64_t tallies_[tally_count] = {};
  /// The last head the proxy sent of a request: on which connection, to which upstream.
  struct last_head {
    std::uint64_t conn = 0;
    std::size_t upstream = 0;
    bool post = false;
    bool sent = false;  ///< false: no head of it was sent
  };
  id_window<last_head> sent_;  ///< by request id, while the request may still be judged
  std::unordered_set<std::uint64_t> crashed_conns_;
  std::vector<window> all_down_;
};

}  // namespace bb::sim
