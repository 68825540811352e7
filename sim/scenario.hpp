#pragma once
/// bb::sim::scenario: a named situation and every parameter its seed decides.
///
/// A scenario is data: the hosts, the load, the faults and the outcomes it allows. The
/// parameters are drawn from the seed through a generator of their own (split from the
/// seed before anything else), so the runner can print them all and a seed names a run.

#include <algorithm>
#include <bb/core/random.hpp>
#include <bb/lb/balance_policy.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <sim/client.hpp>
#include <sim/invariants.hpp>
#include <sim/misbehaviour.hpp>
#include <sim/rate_client.hpp>
#include <sim/rate_model.hpp>
#include <sim/swarm_setup.hpp>
#include <sim/upstream.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

/// A planned fault: what happens to which upstream, and when.
struct fault {
  enum class kind : std::uint8_t {
    crash,            ///< the process dies and stays down
    restart,          ///< the process is started again
    answer_500,       ///< the process starts answering 500 to everything (health checks too)
    slow_down,        ///< the process's service times grow by the scenario's slowdown factor
    misbehave,        ///< the process starts writing unasked bytes as `plan` says
    hang,             ///< the process reads requests and never answers
    half_then_close,  ///< the process sends half of each response, then closes
    partition,        ///< the links between the proxy and the host hold every segment
    pause,            ///< the host's processes freeze (its kernel still accepts)
    throttle,         ///< the link from the host to the proxy carries `amount` bytes a second
    heal,             ///< every fault above on the host ends (a crashed host restarts)
  };
  kind what;
  std::size_t target;
  duration at;
  misbehaviour plan{};       ///< misbehave: what it does
  std::uint64_t amount = 0;  ///< throttle: bytes per second
};

constexpr std::string_view to_string(fault::kind k) noexcept {
  constexpr std::string_view names[] = {"crash",           "restart",   "answer_500", "slow_down", "misbehave", "hang",
                                        "half_then_close", "partition", "pause",      "throttle",  "heal"};
  return names[static_cast<int>(k)];
}

/// The rate-limit scenarios' part: the proxy's limit, one plan per client IP, and the
/// bound on the well-behaved clients' latency p99 (0: none).
struct rate_setup {
  rate_params params;
  bool default_burst = true;  ///< the proxy is left to its default burst (N - 1)
  std::vector<rate_plan> plans;
  duration p99_bound{0};
};

/// The balancing scenarios' part (issue 7): what is checked, about which upstream, when.
struct balance_setup {
  enum class kind : std::uint8_t {
    slow_upstream,   ///< one upstream's service time grows; latency-aware policies avoid it
    hash_stability,  ///< consistent-hash: an upstream leaves and returns; only its keys move
    weighted,        ///< upstreams of weights 1, 2, 5: shares follow the weights
  };
  kind what = kind::slow_upstream;
  std::size_t target = 0;      ///< the upstream that slows down or leaves
  duration at{0};              ///< when it slows down or crashes
  duration back{0};            ///< hash_stability: when it is started again
  duration settle{0};          ///< slow_upstream: the time the policies get to react
  double slowdown = 1;         ///< slow_upstream: its service times are multiplied by this
  double max_slow_share = 0;   ///< slow_upstream: bound on its share from at + settle on (0: none)
  double share_tolerance = 0;  ///< weighted: bound on |share - weight / total weight| (0: none)
};

/// Everything one run is made of.
struct scenario {
  std::string name;
  std::uint64_t seed = 0;
  duration length = std::chrono::seconds(60);
  bool through_proxy = true;
  std::vector<upstream_spec> upstreams;
  std::size_t client_hosts = 8;
  client_options clients;
  /// The proxy's active check interval in seconds (0: passive checks with backoff only).
  std::uint32_t health_interval_s = 0;
  /// Faults at planned times, in time order.
  std::vector<fault> faults;
  /// upstream_flap: which upstream goes down and up, and the mean up and down times.
  std::optional<std::size_t> flap_target;
  duration flap_up_mean{0};
  duration flap_down_mean{0};
  /// Outcomes allowed outright; others must be excused by the failover watch's judge.
  std::vector<outcome> allowed{outcome::ok};
  /// Set in the rate-limit scenarios, whose clients are rate_fleet's instead.
  std::optional<rate_setup> rate;
  /// The proxy's balancing policy (`--balance`).
  bb::balance_policy balance = bb::balance_policy::random;
  /// Set in the balancing scenarios.
  std::optional<balance_setup> balancing;
  /// Set in swarm runs (sim/swarm.hpp).
  std::optional<swarm_setup> swarm;

  /// Every parameter as (name, value) text, in a fixed order, for the report.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> parameters() const {
    auto ms = [](duration d) { return std::to_string(d.count() / 1'000'000) + "ms"; };
    std::vector<std::pair<std::string, std::string>> p;
    p.emplace_back("through_proxy", through_proxy ? "yes" : "no");
    std::string ups;
    for (auto& u : upstreams) ups += (ups.empty() ? "" : ",") + u.name + ":" + std::string(to_string(u.kind));
    p.emplace_back("upstreams", ups);
    p.emplace_back("client_hosts", std::to_string(client_hosts));
    p.emplace_back("rate_per_s", std::to_string(static_cast<std::uint64_t>(clients.rate)));
    p.emplace_back("closed_users", std::to_string(clients.closed_users));
    p.emplace_back("think_mean", ms(clients.think_mean));
    p.emplace_back("max_conns_per_host", std::to_string(clients.max_conns));
    p.emplace_back("pipeline", std::to_string(clients.pipeline));
    p.emplace_back("max_requests_per_conn", std::to_string(clients.max_requests_per_conn));
    p.emplace_back("max_body", std::to_string(clients.max_body));
    p.emplace_back("post_fraction", std::to_string(clients.post_fraction).substr(0, 4));
    if (clients.head_fraction > 0) p.emplace_back("head_fraction", std::to_string(clients.head_fraction).substr(0, 4));
    if (clients.bare_post_fraction > 0)
      p.emplace_back("bare_post_fraction", std::to_string(clients.bare_post_fraction).substr(0, 4));
    if (clients.slow_upload_fraction > 0)
      p.emplace_back("slow_uploads", std::to_string(clients.slow_upload_fraction).substr(0, 4) +
                                         " of POSTs, pauses 1-" + ms(clients.upload_pause));
    p.emplace_back("health_interval", health_interval_s ? std::to_string(health_interval_s) + "s" : "off (passive)");
    p.emplace_back("balance", std::string(to_string(balance)));
    if (balancing) balance_parameters(p);
    if (rate) rate_parameters(p);
    if (swarm) {
      std::string weights;
      std::string service;
      for (const auto& u : upstreams) {
        weights += (weights.empty() ? "" : ",") + std::to_string(u.weight);
        service += (service.empty() ? "" : ",") + (u.kind == behaviour::slow ? ms(u.slow_mean) : std::string("-"));
      }
      p.emplace_back("weights", weights);
      p.emplace_back("service_mean", service);
      for (auto& kv : swarm->parameters()) p.push_back(std::move(kv));
    }
    std::string fs;
    for (auto& f : faults)
      fs += (fs.empty() ? "" : ", ") + upstreams[f.target].name + " " + std::string(to_string(f.what)) +
            (f.what == fault::kind::throttle ? " " + std::to_string(f.amount) + "B/s" : "") + " at " + ms(f.at);
    if (!fs.empty()) p.emplace_back("faults", fs);
    std::string mis;
    for (const auto& u : upstreams)
      if (u.unsolicited.any()) mis += (mis.empty() ? "" : "; ") + u.name + " " + describe(u.unsolicited);
    for (const auto& f : faults)
      if (f.what == fault::kind::misbehave)
        mis += (mis.empty() ? "" : "; ") + upstreams[f.target].name + " from " + ms(f.at) + " " + describe(f.plan);
    if (!mis.empty()) p.emplace_back("unsolicited", mis);
    if (flap_target)
      p.emplace_back("flap", upstreams[*flap_target].name + " up~" + ms(flap_up_mean) + " down~" + ms(flap_down_mean));
    std::string allow;
    for (auto o : allowed) allow += (allow.empty() ? "" : ",") + std::string(to_string(o));
    p.emplace_back("allowed", allow + (rate            ? " and 429 where the limit refuses"
                                       : swarm         ? " (others as the swarm watch excuses)"
                                       : through_proxy ? " (others as the failover watch excuses)"
                                                       : ""));
    return p;
  }

private:
  void balance_parameters(std::vector<std::pair<std::string, std::string>>& p) const {
    auto ms = [](duration d) { return std::to_string(d.count() / 1'000'000) + "ms"; };
    std::string weights, workers, service;
    for (const auto& u : upstreams) {
      weights += (weights.empty() ? "" : ",") + std::to_string(u.weight);
      workers += (workers.empty() ? "" : ",") + std::to_string(u.workers);
      service += (service.empty() ? "" : ",") + ms(u.slow_mean);
    }
    p.emplace_back("weights", weights);
    if (upstreams.front().kind == behaviour::slow) {
      p.emplace_back("workers", workers);
      p.emplace_back("service_mean", service);
    }
    const auto& b = *balancing;
    if (b.what == balance_setup::kind::slow_upstream && b.max_slow_share > 0)
      p.emplace_back("slow_share_bound",
                     std::to_string(b.max_slow_share).substr(0, 4) + " from slowdown+" + ms(b.settle));
    if (b.what == balance_setup::kind::weighted && b.share_tolerance > 0)
      p.emplace_back("share_tolerance", std::to_string(b.share_tolerance).substr(0, 5));
  }

  void rate_parameters(std::vector<std::pair<std::string, std::string>>& p) const {
    const auto& q = rate->params;
    std::string limit = std::string(to_string(q.algorithm)) + " N=" + std::to_string(q.n) +
                        " window=" + std::to_string(q.window.count() / 1'000'000) + "ms";
    if (q.algorithm == rate_limit_algorithm::gcra)
      limit += " burst=" + std::to_string(q.burst) + (rate->default_burst ? " (default)" : "");
    p.emplace_back("rate_limit", limit);
    std::size_t by_kind[5] = {};
    for (const auto& c : rate->plans) ++by_kind[static_cast<int>(c.what)];
    std::string kinds;
    for (int k = 0; k < 5; ++k)
      if (by_kind[k])
        kinds += (kinds.empty() ? "" : ", ") + std::to_string(by_kind[k]) + " " +
                 std::string(to_string(static_cast<rate_plan::kind>(k)));
    p.emplace_back("rate_clients", kinds);
    if (rate->p99_bound.count() > 0)
      p.emplace_back("well_behaved_p99_bound", std::to_string(rate->p99_bound.count() / 1'000'000) + "ms");
  }
};

/// The scenarios `sim --list` shows, with one line each.
inline std::vector<std::pair<std::string_view, std::string_view>> scenario_list() {
  return {
      {"steady", "3 echo upstreams behind the proxy, constant open- and closed-loop load; only 2xx allowed"},
      {"upstream_crash", "one of 3 upstreams crashes and stays down; active checks; no error a crash does not excuse"},
      {"upstream_flap", "1,000 req/s; one upstream goes down and up on a seeded schedule; active checks"},
      {"passive_failover", "one of 2 upstreams crashes, active checks off: zero errors but POSTs cut by the crash"},
      {"active_restore", "upstreams crash and restart: traffic returns within an interval of the restart"},
      {"http_500", "one upstream starts answering 500: it loses its traffic within an interval, then no 500s"},
      {"unsolicited",
       "upstreams write unasked bytes after answers (late bodies, poisoned responses, garbage) and answer uploads "
       "early; no answer reaches another request"},
      {"all_down", "every upstream crashes: fast 502s; one restarts: service resumes within an interval"},
      {"rate_limit_fixed_window", "clients at many rates against N per aligned window; 429s exactly as the model says"},
      {"rate_limit_sliding_window", "the same against the sliding-window counter"},
      {"rate_limit_gcra", "GCRA with a seeded burst: limit + t/T over any interval; waiting Retry-After is admitted"},
      {"thundering_herd", "10,000 client IPs burst at one instant; limits hold, well-behaved clients stay fast"},
      {"slow_upstream",
       "one of 3 upstreams gets 10x slower; least-requests, p2c, peak-ewma move traffic off it (--balance all: table)"},
      {"hash_stability",
       "consistent-hash, 600-1,200 client IPs: an upstream leaves and returns; only its clients move"},
      {"weighted", "upstreams of weights 1, 2, 5 and capacity to match: every policy's shares follow the weights"},
  };
}

scenario make_rate_scenario(std::string_view name, std::uint64_t seed, std::optional<duration> length);
scenario make_balance_scenario(std::string_view name, std::uint64_t seed, std::optional<duration> length,
                               std::optional<bb::balance_policy> policy);

/// Whether `name` is one of the balancing scenarios (which `--balance all` can compare).
inline bool is_balance_scenario(std::string_view name) noexcept {
  return name == "slow_upstream" || name == "hash_stability" || name == "weighted";
}

namespace detail {
inline duration between(rng& r, duration lo, duration hi) {
  return lo + duration(static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>((hi - lo).count()) + 1)));
}

/// A misbehaviour drawn from `r`: a non-empty set of kinds, 5 to 30 % of answers, unasked
/// bytes within 0 to 200 ms of their answer.
inline misbehaviour draw_misbehaviour(rng& r) {
  using namespace std::chrono_literals;
  misbehaviour m;
  m.kinds = static_cast<std::uint8_t>(1 + r.below((1u << misbehaviour::kind_count) - 1));
  m.rate = static_cast<double>(5 + r.below(26)) / 100.0;
  m.max_delay = between(r, 0ms, 200ms);
  return m;
}
}  // namespace detail

/// The scenario `name` for `seed`; `length` overrides its virtual duration and `policy`
/// the proxy's balancing policy (the same seed draws the same load under every policy).
/// Throws std::invalid_argument for an unknown name, or a policy the scenario cannot run.
inline scenario make_scenario(std::string_view name, std::uint64_t seed, std::optional<duration> length = {},
                              std::optional<bb::balance_policy> policy = {}) {
  using namespace std::chrono_literals;
  using fk = fault::kind;
  if (is_balance_scenario(name)) return make_balance_scenario(name, seed, length, policy);
  if (name.starts_with("rate_limit_") || name == "thundering_herd") {
    auto s = make_rate_scenario(name, seed, length);
    if (policy) s.balance = *policy;
    return s;
  }
  scenario s;
  if (policy) s.balance = *policy;
  s.name = std::string(name);
  s.seed = seed;
  rng r = rng(seed).split();  // the parameters' own stream: other components split later
  const std::size_t n = name == "passive_failover" ? 2 : 3;
  for (std::size_t i = 1; i <= n; ++i) s.upstreams.push_back({"up" + std::to_string(i), behaviour::echo, 20ms});
  s.client_hosts = 8 + r.below(17);
  s.clients.rate = static_cast<double>(200 + r.below(801));
  s.clients.closed_users = r.below(17);
  s.clients.think_mean = detail::between(r, 10ms, 200ms);
  s.clients.max_conns = 2 + r.below(7);
  s.clients.pipeline = 1 + r.below(4);
  s.clients.max_requests_per_conn = 10 + r.below(191);
  s.clients.max_body = 16 + r.below(497);
  s.clients.post_fraction = static_cast<double>(r.below(101)) / 100.0;
  const auto interval = static_cast<std::uint32_t>(1 + r.below(2));  // 1 or 2 s
  if (name == "steady" || name == "passive_failover") {
    s.length = 60s;
  } else if (name == "upstream_crash" || name == "active_restore" || name == "http_500" || name == "all_down") {
    s.length = 60s;
    s.health_interval_s = interval;
  } else if (name == "unsolicited") {
    // One to three of the upstreams misbehave, each its own way; clients also send HEADs
    // (a bodiless answer whose body may come late) and trickle some uploads (which the
    // upstream may answer before they are whole).
    s.length = 60s;
    s.health_interval_s = interval;
    const auto count = 1 + r.below(n), first = r.below(n);
    for (std::size_t k = 0; k < count; ++k) s.upstreams[(first + k) % n].unsolicited = detail::draw_misbehaviour(r);
    s.clients.head_fraction = static_cast<double>(10 + r.below(31)) / 100.0;
    s.clients.slow_upload_fraction = static_cast<double>(10 + r.below(41)) / 100.0;
    s.clients.upload_pause = detail::between(r, 5ms, 40ms);
  } else if (name == "upstream_flap") {
    s.length = 120s;
    s.clients.rate = 1000;  // the speed benchmark's load: open loop only
    s.clients.closed_users = 0;
    s.health_interval_s = interval;
    s.flap_target = r.below(s.upstreams.size());
    s.flap_up_mean = detail::between(r, 2s, 20s);
    s.flap_down_mean = detail::between(r, 500ms, 5s);
  } else {
    throw std::invalid_argument("unknown scenario: " + std::string(name));
  }
  if (length) s.length = *length;
  // Fault times depend on the length, so they are drawn after the override.
  const auto L = s.length;
  if (name == "upstream_crash" || name == "passive_failover") {
    s.faults.push_back({fk::crash, r.below(n), detail::between(r, L / 4, L / 2)});
  } else if (name == "http_500") {
    s.faults.push_back({fk::answer_500, r.below(n), detail::between(r, L / 4, L / 2)});
  } else if (name == "active_restore") {
    // Two crash-restart cycles, each down long enough (or not) for a check round to see
    // it, and up long enough for the recovery bound to run out before the next crash.
    auto t = detail::between(r, L / 6, L / 4);
    for (int cycle = 0; cycle < 2; ++cycle) {
      const auto target = r.below(n);
      s.faults.push_back({fk::crash, target, t});
      t += detail::between(r, 500ms, 3s);
      s.faults.push_back({fk::restart, target, t});
      t += detail::between(r, 3s, 4s);
    }
  } else if (name == "all_down") {
    const auto t = detail::between(r, L / 4, L / 3);
    duration last{0};
    for (std::size_t i = 0; i < n; ++i) {
      const auto at = t + detail::between(r, 0ms, 300ms);
      last = std::max(last, at);
      s.faults.push_back({fk::crash, i, at});
    }
    s.faults.push_back({fk::restart, r.below(n), last + detail::between(r, 2s, 5s)});
  }
  // Where upstreams fail, one also starts writing unasked bytes (drawn last, so that the
  // other faults are those the seed drew before): in http_500 and upstream_crash one that
  // keeps serving, so that its bytes meet traffic.
  if (name == "http_500" || name == "upstream_crash" || name == "active_restore") {
    const auto target = name == "active_restore" ? r.below(n) : (s.faults.front().target + 1 + r.below(n - 1)) % n;
    const auto at = detail::between(r, L / 8, L / 2);
    s.faults.push_back({fk::misbehave, target, at, detail::draw_misbehaviour(r)});
  }
  std::stable_sort(s.faults.begin(), s.faults.end(), [](const fault& a, const fault& b) { return a.at < b.at; });
  return s;
}

}  // namespace bb::sim

#include <sim/balance_scenarios.hpp>
#include <sim/rate_scenarios.hpp>
