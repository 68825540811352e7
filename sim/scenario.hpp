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
  /// The proxy's worker loops (each a bb::proxy with its own SO_REUSEPORT listener).
  std::size_t proxy_workers = 1;
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
    if (clients.slow_read_fraction > 0)
      p.emplace_back("slow_reads", std::to_string(clients.slow_read_fraction).substr(0, 4) + " of connections, " +
                                       std::to_string(slow_read_chunk) + " B a read after up to " +
                                       ms(clients.read_pause));
    if (clients.receive_window > 0) p.emplace_back("client_window", std::to_string(clients.receive_window) + "B");
    if (proxy_workers > 1) p.emplace_back("proxy_workers", std::to_string(proxy_workers));
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

}  // namespace bb::sim
