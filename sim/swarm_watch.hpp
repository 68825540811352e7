#pragma once
/// bb::sim::swarm_watch: the request-level, backoff and liveness invariants of swarm runs,
/// checked as the proxy's upstream traffic and its clients' outcomes happen.
///
/// It hears the proxy's upstream traffic as structured events (sim/events.hpp: request
/// heads and body bytes written, connects started), hears every fault and heal from the world, reads the cluster's
/// state (never a log line) and judges every client outcome other than a 2xx:
/// - a request's head goes out at most budget = upstreams + 1 times; it goes back to a
///   host it was sent to only once, on a new connection, right after an attempt on a
///   pooled connection there (the pool's staleness, not the host's fault); a POST's head
///   goes out on one upstream connection at most;
/// - a 504 arrives no sooner than the response timeout after the request's last byte went
///   upstream, and no later than that plus 150 ms (the proxy cuts late exchanges on a
///   100 ms tick, and the path back to the client takes up to about 15 ms);
/// - a request whose last attempt went to a host that never answers (hang, pause,
///   partition) ends in 504; one to a host sending half a response, in 502 or a closed
///   connection (README: once the response started, the client's connection is closed);
/// - with active checks off, a host the cluster has down gets client connects at least the
///   base backoff apart, and once the base backoff since it went down is over (and no
///   connect to it can still be failing), the next requests the proxy places (fewer than
///   three go elsewhere) include its first retry: one attempt per backoff period, neither
///   more nor fewer;
/// - from heal_at + liveness_bound on, every host is up and every request succeeds (a 429
///   is a success where a rate limit is drawn). With active checks off a down host can
///   only come back through a request (its probe), so a host still down then is judged
///   by the requests placed upstream once its retry was due at the latest: it must be up
///   1 s (`probe_answer`) after as many were placed as there are hosts.
/// Outside these, any outcome is excused while faults are on.

#include <algorithm>
#include <bb/upstream/cluster.hpp>
#include <chrono>
#include <cstdint>
#include <sim/connection.hpp>
#include <sim/executor.hpp>
#include <sim/http_lite.hpp>
#include <sim/invariants.hpp>
#include <sim/scenario.hpp>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bb::sim {

class swarm_watch final : public event_sink {
public:
  /// Watches a proxy that balances over `hosts` (the upstreams of `sc`, in its order), run
  /// as `sc` (with its swarm part) says; subscribe it to the decoder's events.
  swarm_watch(executor& exec, invariants& inv, const scenario& sc, const cluster& hosts)
      : exec_(exec), inv_(inv), sc_(sc), hosts_(hosts), ups_(sc.upstreams.size()), passive_(sc.health_interval_s == 0) {
    inv_.add_judge([this](const claim& c) { return judge(c); });
  }
  swarm_watch(const swarm_watch&) = delete;
  swarm_watch& operator=(const swarm_watch&) = delete;

  // ---- the tap on the proxy's upstream transport ----------------------------------------

  void connect_started(std::size_t i, bool check) override {
    if (check) return;
    placed();
    poll();
    auto& u = ups_[i];
    u.last_connect = exec_.now();
    if (!passive_ || u.up) return;
    const auto now = exec_.now();
    const auto& w = *sc_.swarm;
    ++checks_;
    if (u.last_try.count() >= 0 && now - u.last_try < w.passive_backoff - std::chrono::milliseconds(1))
      inv_.violate(broken::backoff, 0,
                   "client connects to " + sc_.upstreams[i].name + ", which is down, " + ms(now - u.last_try) +
                       " apart (backoff " + ms(w.passive_backoff) + ")");
    if (u.last_try.count() < 0 && u.late_picks >= late_picks_allowed)
      inv_.violate(broken::backoff, 0,
                   "first client connect to " + sc_.upstreams[i].name + " " + ms(now - u.down_since) +
                       " after it went down (backoff " + ms(w.passive_backoff) + "), after " +
                       std::to_string(u.late_picks) + " requests went elsewhere with its retry due");
    u.last_try = now;
  }

  void connection_opened(std::uint64_t conn, std::size_t, bool check) override {
    if (!check) conns_[conn].opened = exec_.now();
  }
  void connection_freed(std::uint64_t conn) override { conns_.erase(conn); }

  void body_sent(std::uint64_t conn, std::size_t) override {
    poll();
    auto& cs = conns_[conn];
    if (cs.current) request(cs.current).last_write = exec_.now();  // the request the connection carries
  }

  void request_sent(const sent_head& h) override {
    if (h.refused) return;  // nothing went out
    poll();
    const auto i = h.upstream;
    const auto id = h.request;
    const auto method = h.method;
    const auto now = exec_.now();
    auto& cs = conns_[h.conn];
    const bool reused = cs.heads++ > 0;
    if (reused) placed();  // a new connection was placed when its connect began
    cs.current = id;
    auto& q = request(id);
    // A pooled connection carries the head at once; a new one was picked when its connect began.
    picked(i, reused ? now : cs.opened, q);
    const auto& name = sc_.upstreams[i].name;
    checks_ += 3;
    if (q.attempts > 0 && method == "POST")
      inv_.violate(broken::replayed_post, id,
                   "a POST's head went out again, to " + name + ", after an attempt on " + sc_.upstreams[q.last].name);
    if (q.tried(i)) {
      const bool fresh_retry = q.last == i && q.last_reused && !reused && !q.fresh_used;
      if (!fresh_retry)
        inv_.violate(broken::same_host_retry, id,
                     "request sent back to " + name + ", which it had been sent to" +
                         (q.last == i ? std::string(q.last_reused ? "" : " on a new connection") : " before another"));
      q.fresh_used = true;
    }
    if (++q.attempts > ups_.size() + 1)
      inv_.violate(broken::retry_storm, id,
                   std::to_string(q.attempts) + " attempts, budget " + std::to_string(ups_.size() + 1));
    if (q.attempts > 1) q.earlier.push_back(q.last);
    q.last = i;
    q.last_reused = reused;
    q.episode = ups_[i].episode;
    q.last_write = now;
  }

  // ---- what the world says ---------------------------------------------------------------

  /// Fault `what` befell upstream `i` (heal: every fault on it ended).
  void fault(fault::kind what, std::size_t i) {
    auto& u = ups_[i];
    ++u.episode;
    switch (what) {
      case fault::kind::hang: u.kind = mode_kind::silent; break;
      case fault::kind::half_then_close: u.kind = mode_kind::half; break;
      case fault::kind::answer_500: u.kind = mode_kind::normal; break;
      case fault::kind::pause: u.paused = true; break;
      case fault::kind::partition: u.partitioned = true; break;
      case fault::kind::crash: u.paused = false; break;  // a crash ends a pause
      case fault::kind::heal: u.kind = mode_kind::normal, u.paused = u.partitioned = false; break;
      default: break;  // slowness, unasked bytes, bandwidth, a restart: the mode stays
    }
    u.mode = u.paused || u.partitioned ? mode_kind::silent : u.kind;
  }

  /// The liveness bound after the heal has passed: every host must be up now, and every
  /// request issued from now on must succeed.
  ///
  /// With active checks off, the bound (backoff cap + connect timeout + 2 s) assumes
  /// requests reach the upstreams: a down host's retry is due by heal_at + cap + connect
  /// timeout at the latest (a probe claimed before the heal fails at most a connect timeout
  /// later and doubles the backoff to at most the cap), each request the proxy then places
  /// upstream claims a due probe before any pick (so n placements cover n down hosts), and
  /// a healed host answers in a few ms. The 2 s are 1 s for those requests to come and 1 s
  /// (`probe_answer`) for the answers. When a rate limit refuses every request (fixed or
  /// sliding window spent: seeds 486, 515, 698), none reaches the forwarder and no host can
  /// come back; the host is then judged 1 s after those n requests, however late they come.
  void liveness_due() {
    live_from_ = exec_.now();
    for (std::size_t i = 0; i < ups_.size(); ++i) {
      ++checks_;
      if (hosts_.live(i, duration{0}, false)) continue;
      if (passive_ && !probe_answered(live_from_)) {
        ups_[i].live_pending = true;
        ++waited_for_probe_;
        continue;
      }
      inv_.violate(broken::not_live, 0,
                   sc_.upstreams[i].name + " is still down " + ms(live_from_ - sc_.swarm->heal_at) +
                       " after every fault was healed (bound " + ms(sc_.swarm->liveness_bound) + ")" +
                       (passive_ ? ", " + ms(live_from_ - first_placed_) + " after " + std::to_string(ups_.size()) +
                                       " requests were placed upstream once its retry was due"
                                 : std::string()));
    }
  }

  /// How many conditions the watch checked.
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }
  /// Counts of what the watch judged, by name.
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> tallies() const {
    return {{"swarm: failures excused while faults were on", excused_},
            {"swarm: 504s within the response timeout's bound", timeouts_},
            {"swarm: requests judged after the liveness bound", judged_live_},
            {"swarm: down hosts judged late (no request went upstream once their retry was due)", waited_for_probe_}};
  }

private:
  enum class mode_kind : std::uint8_t { normal, silent, half };
  struct up {
    mode_kind mode = mode_kind::normal;  ///< how a request sent to it now must end
    mode_kind kind = mode_kind::normal;  ///< what its process does (hang, half, other)
    bool paused = false, partitioned = false;
    std::uint32_t episode = 0;  ///< bumped by every fault and heal
    bool up = true;             ///< the cluster's state at the last look
    duration down_since{0};
    duration last_try{-1};         ///< the last client connect while down (-1: none yet)
    std::uint64_t late_picks = 0;  ///< picks of other hosts while its first retry was due
    duration last_connect{-1};     ///< the last client connect to it, in any state
    bool live_pending = false;     ///< down at the liveness bound with no probe placed yet
  };
  /// How long a healed host may take to answer its probe: a connect and one exchange,
  /// a few ms on the simulated network and its service time (mean at most 20 ms).
  static constexpr duration probe_answer = std::chrono::seconds(1);
  /// Picks of other hosts tolerated before a due first retry (requests that picked in the
  /// same instant as the backoff ran out).
  static constexpr std::uint64_t late_picks_allowed = 3;
  struct req {
    std::uint32_t episode = 0;
    std::uint32_t attempts = 0;
    std::size_t last = 0;              ///< the host its last head went to
    std::vector<std::size_t> earlier;  ///< the hosts of the heads before (empty until a retry)
    /// True when a head of it went to host `i`.
    [[nodiscard]] bool tried(std::size_t i) const {
      return attempts > 0 && (last == i || std::find(earlier.begin(), earlier.end(), i) != earlier.end());
    }
    bool last_reused = false, fresh_used = false;
    duration last_write{0};
  };
  struct conn_state {
    std::uint64_t heads = 0, current = 0;
    duration opened{0};
  };

  req& request(std::uint64_t id) {
    if (id >= reqs_.size()) reqs_.resize(std::max<std::size_t>(id + 1, reqs_.size() * 2));
    return reqs_[id];
  }

  /// Request `q` (as it was before this attempt) picked host `i` at `at`: with active
  /// checks off, that counts against every other down host it had not tried whose first
  /// retry was due by then.
  void picked(std::size_t i, duration at, const req& q) {
    if (!passive_) return;
    const auto due = at - sc_.swarm->passive_backoff - std::chrono::milliseconds(1);
    for (std::size_t k = 0; k < ups_.size(); ++k) {
      const auto& u = ups_[k];
      // A connect to k may still be failing (then the pick may be that request's retry,
      // which must not go back to k): not counted until the connect timeout is over.
      const bool settled = at > u.last_connect + sc_.swarm->connect_timeout + std::chrono::milliseconds(1);
      if (k != i && !q.tried(k) && !u.up && u.last_try.count() < 0 && u.down_since <= due && settled)
        ++ups_[k].late_picks;
    }
  }

  /// Reads the cluster's state: a host that went down starts a backoff episode; a host
  /// down at the liveness bound for want of requests is judged once its probe had time.
  void poll() {
    for (std::size_t i = 0; i < ups_.size(); ++i) {
      auto& u = ups_[i];
      const bool now_up = hosts_.live(i, duration{0}, false);
      if (u.up && !now_up) u.down_since = exec_.now(), u.last_try = duration{-1}, u.late_picks = 0;
      u.up = now_up;
      if (!u.live_pending || !(now_up || probe_answered(exec_.now()))) continue;
      u.live_pending = false;
      ++checks_;
      if (!now_up)
        inv_.violate(broken::not_live, 0,
                     sc_.upstreams[i].name + " is still down " + ms(exec_.now() - first_placed_) +
                         " after the probes placed upstream once its retry was due (" +
                         ms(first_placed_ - sc_.swarm->heal_at) + " after the heal; bound " + ms(probe_answer) + ")");
    }
  }

  /// When a down host's retry is due at the latest after the heal (see liveness_due).
  [[nodiscard]] duration retry_due() const noexcept {
    return sc_.swarm->heal_at + sc_.swarm->passive_backoff_max + sc_.swarm->connect_timeout;
  }
  /// A request is placed upstream now (a connect begins, or a head goes on a pooled
  /// connection). Each placement claims at most one probe, so once as many as there are
  /// hosts were placed after retry_due(), every host down then has had its probe.
  void placed() {
    if (first_placed_.count() < 0 && exec_.now() >= retry_due() && ++placed_after_due_ == ups_.size())
      first_placed_ = exec_.now();
  }
  /// Whether, by `at`, the probes placed once every retry was due had time for an answer.
  [[nodiscard]] bool probe_answered(duration at) const noexcept {
    return first_placed_.count() >= 0 && at >= first_placed_ + probe_answer;
  }

  bool judge(const claim& c) {
    const auto now = exec_.now();
    const req* q = c.id < reqs_.size() && reqs_[c.id].attempts ? &reqs_[c.id] : nullptr;
    const auto& w = *sc_.swarm;
    if (c.status == 504) {
      ++checks_;
      const auto waited = q ? now - q->last_write : duration{-1};
      if (waited < w.response_timeout || waited > w.response_timeout + std::chrono::milliseconds(150))
        inv_.violate(broken::timeout_bound, c.id,
                     q ? "a 504 " + ms(waited) + " after the request's last byte went upstream (timeout " +
                             ms(w.response_timeout) + ")"
                       : "a 504 for a request never sent upstream");
      else ++timeouts_;
    }
    if (q && c.behind == 0 && q->episode == ups_[q->last].episode) {
      const auto& name = sc_.upstreams[q->last].name;
      ++checks_;
      if (ups_[q->last].mode == mode_kind::silent && c.status != 504)
        inv_.violate(broken::hung_not_504, c.id,
                     "sent to " + name + ", which never answers, it ended as " + describe(c) + ", not 504");
      if (ups_[q->last].mode == mode_kind::half && c.status != 502 && c.what != outcome::conn_error)
        inv_.violate(broken::broken_not_502, c.id,
                     "sent to " + name + ", which sends half a response, it ended as " + describe(c) +
                         ", not 502 or a closed connection");
    }
    if (live_from_.count() > 0 && inv_.issued_at(c.id) >= live_from_) {
      ++judged_live_;
      if (!(c.status == 429 && w.rate_limit > 0)) {
        inv_.violate(broken::not_live, c.id,
                     "a request issued " + ms(inv_.issued_at(c.id) - w.heal_at) + " after the heal (liveness bound " +
                         ms(w.liveness_bound) + ") ended as " + describe(c) + " " + ms(now - inv_.issued_at(c.id)) +
                         " later" + (q ? "; last sent to " + sc_.upstreams[q->last].name : "; never sent upstream"));
        return true;  // reported as not_live, not also as a disallowed outcome
      }
    }
    ++excused_;
    return true;
  }

  static std::string describe(const claim& c) {
    return c.status ? std::to_string(c.status) : std::string(to_string(c.what));
  }
  static std::string ms(duration d) { return std::to_string(d.count() / 1'000'000) + " ms"; }

  executor& exec_;
  invariants& inv_;
  const scenario& sc_;
  const cluster& hosts_;
  std::vector<up> ups_;
  bool passive_;
  std::vector<req> reqs_;
  std::unordered_map<std::uint64_t, conn_state> conns_;
  duration live_from_{0};
  duration first_placed_{-1};  ///< when the n-th request (n hosts) was placed upstream since retry_due()
  std::size_t placed_after_due_ = 0;
  std::uint64_t checks_ = 0, excused_ = 0, timeouts_ = 0, judged_live_ = 0, waited_for_probe_ = 0;
};

}  // namespace bb::sim
