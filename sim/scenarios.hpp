#pragma once
/// bb::sim::scenarios: the named scenarios `sim --scenario` runs, each a short program
/// (sim/program.hpp) whose parameters and fault schedule are drawn from its seed.

#include <algorithm>
#include <bb/core/random.hpp>
#include <bb/lb/balance_policy.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <sim/balance_scenarios.hpp>
#include <sim/program.hpp>
#include <sim/rate_scenarios.hpp>
#include <sim/scenario.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

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

/// Whether `name` is one of the balancing scenarios (which `--balance all` can compare).
inline bool is_balance_scenario(std::string_view name) noexcept {
  return name == "slow_upstream" || name == "hash_stability" || name == "weighted";
}

namespace detail {
/// The failover scenarios' load, drawn from `r`: 200 to 1,000 open-loop requests a second,
/// up to 16 closed-loop users, 2 to 8 connections per host, pipelining 1 to 4, bodies of 16
/// to 512 bytes, 0 to 100 % POSTs.
inline client_options draw_load(rng& r) {
  using namespace std::chrono_literals;
  client_options o;
  o.rate = static_cast<double>(200 + r.below(801));
  o.closed_users = r.below(17);
  o.think_mean = between(r, 10ms, 200ms);
  o.max_conns = 2 + r.below(7);
  o.pipeline = 1 + r.below(4);
  o.max_requests_per_conn = 10 + r.below(191);
  o.max_body = 16 + r.below(497);
  o.post_fraction = static_cast<double>(r.below(101)) / 100.0;
  return o;
}
}  // namespace detail

/// The scenario `name` for `seed`; `length` overrides its virtual duration and `policy`
/// the proxy's balancing policy (the same seed draws the same load under every policy).
/// Throws std::invalid_argument for an unknown name, or a policy the scenario cannot run.
inline scenario make_scenario(std::string_view name, std::uint64_t seed, std::optional<duration> length = {},
                              std::optional<bb::balance_policy> policy = {}) {
  using namespace std::chrono_literals;
  using detail::between;
  if (is_balance_scenario(name)) return make_balance_scenario(name, seed, length, policy);
  if (name.starts_with("rate_limit_") || name == "thundering_herd") {
    auto s = make_rate_scenario(name, seed, length);
    if (policy) s.balance = *policy;
    return s;
  }
  // Every draw below is sequenced (never two in one call's arguments), so that a seed
  // names the same run on every compiler.
  rng r = rng(seed).split();  // the parameters' own stream: other components split later
  const std::size_t n = name == "passive_failover" ? 2 : 3;
  program p(std::string(name), seed);
  p.upstreams(n);
  if (policy) p.balance(*policy);
  const std::size_t hosts = 8 + r.below(17);
  p.clients(hosts, detail::draw_load(r));
  const auto interval = static_cast<std::uint32_t>(1 + r.below(2));  // 1 or 2 s
  auto& s = p.spec();
  if (name == "steady" || name == "passive_failover") {
    p.length(60s);
  } else if (name == "upstream_crash" || name == "active_restore" || name == "http_500" || name == "all_down") {
    p.length(60s).active_checks(interval);
  } else if (name == "unsolicited") {
    // One to three of the upstreams misbehave, each its own way; clients also send HEADs
    // (a bodiless answer whose body may come late) and trickle some uploads (which the
    // upstream may answer before they are whole).
    p.length(60s).active_checks(interval);
    const auto count = 1 + r.below(n), first = r.below(n);
    for (std::size_t k = 0; k < count; ++k) s.upstreams[(first + k) % n].unsolicited = detail::draw_misbehaviour(r);
    s.clients.head_fraction = static_cast<double>(10 + r.below(31)) / 100.0;
    s.clients.slow_upload_fraction = static_cast<double>(10 + r.below(41)) / 100.0;
    s.clients.upload_pause = between(r, 5ms, 40ms);
  } else if (name == "upstream_flap") {
    p.length(120s).active_checks(interval);
    s.clients.rate = 1000;  // the speed benchmark's load: open loop only
    s.clients.closed_users = 0;
    const auto target = r.below(n);
    const auto up = between(r, 2s, 20s);
    const auto down = between(r, 500ms, 5s);
    p.flap(p.upstream_name(target), up, down);
  } else {
    throw std::invalid_argument("unknown scenario: " + std::string(name));
  }
  if (length) p.length(*length);
  // Fault times depend on the length, so they are drawn after the override.
  const auto L = s.length;
  auto any = [&] { return p.upstream_name(r.below(n)); };
  if (name == "upstream_crash" || name == "passive_failover") {
    const auto who = any();
    p.at(between(r, L / 4, L / 2), crash(who));
  } else if (name == "http_500") {
    const auto who = any();
    p.at(between(r, L / 4, L / 2), answer_500(who));
  } else if (name == "active_restore") {
    // Two crash-restart cycles, each down long enough (or not) for a check round to see
    // it, and up long enough for the recovery bound to run out before the next crash.
    auto t = between(r, L / 6, L / 4);
    for (int cycle = 0; cycle < 2; ++cycle) {
      const auto who = any();
      p.at(t, crash(who));
      t += between(r, 500ms, 3s);
      p.at(t, restart(who));
      t += between(r, 3s, 4s);
    }
  } else if (name == "all_down") {
    const auto t = between(r, L / 4, L / 3);
    duration last{0};
    for (std::size_t i = 0; i < n; ++i) {
      const auto at = t + between(r, 0ms, 300ms);
      last = std::max(last, at);
      p.at(at, crash(p.upstream_name(i)));
    }
    const auto who = any();
    p.at(last + between(r, 2s, 5s), restart(who));
  }
  // Where upstreams fail, one also starts writing unasked bytes (drawn last, so that the
  // other faults are those the seed drew before): in http_500 and upstream_crash one that
  // keeps serving, so that its bytes meet traffic.
  if (name == "http_500" || name == "upstream_crash" || name == "active_restore") {
    const auto target = name == "active_restore" ? r.below(n) : (s.faults.front().target + 1 + r.below(n - 1)) % n;
    const auto at = between(r, L / 8, L / 2);
    p.at(at, misbehave(p.upstream_name(target), detail::draw_misbehaviour(r)));
  }
  return std::move(p).build();
}

}  // namespace bb::sim
