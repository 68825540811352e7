#pragma once
/// bb::sim::scenario: a named situation and every parameter its seed decides.
///
/// A scenario is data: the hosts, the load, the faults and the outcomes it allows. The
/// parameters are drawn from the seed through a generator of their own (split from the
/// seed before anything else), so the runner can print them all and a seed names a run.

#include <bb/core/random.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <sim/client.hpp>
#include <sim/invariants.hpp>
#include <sim/upstream.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

/// Everything one run is made of.
struct scenario {
  std::string name;
  std::uint64_t seed = 0;
  duration length = std::chrono::seconds(60);
  bool through_proxy = true;
  std::vector<upstream_spec> upstreams;
  std::size_t client_hosts = 8;
  client_options clients;
  /// upstream_crash: which upstream dies, and when (it stays down).
  std::optional<std::size_t> crash_target;
  duration crash_at{0};
  /// upstream_flap: which upstream goes down and up, and the mean up and down times.
  std::optional<std::size_t> flap_target;
  duration flap_up_mean{0};
  duration flap_down_mean{0};
  std::vector<outcome> allowed{outcome::ok};

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
    if (crash_target) p.emplace_back("crash", upstreams[*crash_target].name + " at " + ms(crash_at));
    if (flap_target)
      p.emplace_back("flap", upstreams[*flap_target].name + " up~" + ms(flap_up_mean) + " down~" + ms(flap_down_mean));
    std::string allow;
    for (auto o : allowed) allow += (allow.empty() ? "" : ",") + std::string(to_string(o));
    p.emplace_back("allowed", allow);
    return p;
  }
};

/// The scenarios `sim --list` shows, with one line each.
inline std::vector<std::pair<std::string_view, std::string_view>> scenario_list() {
  return {
      {"steady", "3 echo upstreams behind the proxy, constant open- and closed-loop load; only 2xx allowed"},
      {"upstream_crash", "like steady, and one upstream crashes mid-run and stays down; errors recorded"},
      {"upstream_flap", "1,000 req/s; one upstream goes down and up on a seeded schedule; errors recorded"},
  };
}

namespace detail {
inline duration between(rng& r, duration lo, duration hi) {
  return lo + duration(static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>((hi - lo).count()) + 1)));
}
}  // namespace detail

/// The scenario `name` for `seed`; `length` overrides its virtual duration. Throws
/// std::invalid_argument for an unknown name.
inline scenario make_scenario(std::string_view name, std::uint64_t seed, std::optional<duration> length = {}) {
  using namespace std::chrono_literals;
  scenario s;
  s.name = std::string(name);
  s.seed = seed;
  rng r = rng(seed).split();  // the parameters' own stream: other components split later
  for (int i = 1; i <= 3; ++i) s.upstreams.push_back({"up" + std::to_string(i), behaviour::echo, 20ms});
  s.client_hosts = 8 + r.below(17);
  s.clients.rate = static_cast<double>(200 + r.below(801));
  s.clients.closed_users = r.below(17);
  s.clients.think_mean = detail::between(r, 10ms, 200ms);
  s.clients.max_conns = 2 + r.below(7);
  s.clients.pipeline = 1 + r.below(4);
  s.clients.max_requests_per_conn = 10 + r.below(191);
  s.clients.max_body = 16 + r.below(497);
  s.clients.post_fraction = static_cast<double>(r.below(101)) / 100.0;
  if (name == "steady") {
    s.length = 60s;
  } else if (name == "upstream_crash") {
    s.length = 60s;
    s.crash_target = r.below(s.upstreams.size());
    s.allowed = {outcome::ok, outcome::server_error, outcome::conn_error};
  } else if (name == "upstream_flap") {
    s.length = 120s;
    s.clients.rate = 1000;  // the speed benchmark's load: open loop only
    s.clients.closed_users = 0;
    s.flap_target = r.below(s.upstreams.size());
    s.flap_up_mean = detail::between(r, 2s, 20s);
    s.flap_down_mean = detail::between(r, 500ms, 5s);
    s.allowed = {outcome::ok, outcome::server_error, outcome::conn_error};
  } else {
    throw std::invalid_argument("unknown scenario: " + std::string(name));
  }
  if (length) s.length = *length;
  // The crash time depends on the length, so it is drawn after the override.
  if (s.crash_target) s.crash_at = detail::between(r, s.length / 4, s.length / 2);
  return s;
}

}  // namespace bb::sim
