#pragma once
/// The rate-limit scenarios (issue 5): the proxy's limit and every client's plan, drawn
/// from the seed: programs (sim/program.hpp) that sim/scenarios.hpp dispatches to.

#include <algorithm>
#include <chrono>
#include <sim/program.hpp>
#include <sim/scenario.hpp>
#include <stdexcept>
#include <string>
#include <utility>

namespace bb::sim {

namespace detail {
/// Clients of many kinds at many rates (the scenarios other than the herd): `steady`
/// ones at 0.2 to 4 times the limit's rate, bursts of up to 3N over up to 4 connections,
/// clients that wait Retry-After, and the original CS110L client (N + 3 requests back to
/// back just after a window starts: N 200s, then 429s).
inline void mixed_clients(rng& r, rate_setup& rs, duration length, std::size_t steady, std::size_t bursts,
                          std::size_t waiters, bool cs110l) {
  using kind = rate_plan::kind;
  const auto w = rs.params.window;
  const auto n = rs.params.n;
  if (cs110l) rs.plans.push_back({kind::cs110l, w + std::chrono::milliseconds(1), {}, n + 3, 1, 0});
  for (std::size_t i = 0; i < steady; ++i) {
    const double factor = 0.2 + static_cast<double>(r.below(381)) / 100.0;  // times the limit's rate
    const auto period = duration(static_cast<std::int64_t>(static_cast<double>(w.count()) / (n * factor)));
    rs.plans.push_back({kind::steady, between(r, duration{0}, w), period, 1, 1, 0.1});
  }
  for (std::size_t i = 0; i < bursts; ++i) {
    const auto count = static_cast<std::uint32_t>(1 + r.below(3 * n));
    const auto parallel = static_cast<std::uint32_t>(1 + r.below(std::min<std::uint32_t>(4, count)));
    rs.plans.push_back(
        {kind::burst, between(r, duration{0}, length / 2), between(r, w / 2, 3 * w), count, parallel, 0.1});
  }
  for (std::size_t i = 0; i < waiters; ++i)
    rs.plans.push_back({kind::retry_after, between(r, duration{0}, w), {}, 1, 1, 0});
}
}  // namespace detail

/// A rate-limit scenario for `seed` (see make_scenario).
inline scenario make_rate_scenario(std::string_view name, std::uint64_t seed, std::optional<duration> length) {
  using namespace std::chrono_literals;
  program p(std::string(name), seed);
  scenario& s = p.spec();
  rng r = rng(seed).split();
  for (std::size_t i = 1; i <= 3; ++i) s.upstreams.push_back({"up" + std::to_string(i), behaviour::echo, 20ms});
  s.client_hosts = 0;
  s.clients.rate = 0;
  rate_setup rs;
  auto& q = rs.params;
  const auto ms = [](std::uint64_t v) { return duration(std::chrono::milliseconds(v)); };
  if (name == "thundering_herd") {
    // 10,000 IPs wake at one instant mid-window, each with a burst of 1 to 2N requests
    // over 1 or 2 connections; a hundred well-behaved clients at a quarter of the limit's rate
    // run throughout (so no limit refuses them, whatever the algorithm: see the README).
    q.algorithm = static_cast<rate_limit_algorithm>(r.below(3));
    q.n = static_cast<std::uint32_t>(4 + r.below(3));
    q.window = ms(5000 + r.below(5001));
    q.burst = q.n - 1;
    s.length = 2 * q.window;
    const auto herd_at = detail::between(r, q.window / 4, 3 * q.window / 4);
    for (int i = 0; i < 100; ++i)
      rs.plans.push_back(
          {rate_plan::kind::well_behaved, detail::between(r, 0ms, q.window), 4 * q.window / q.n, 1, 1, 0});
    for (int i = 0; i < 10'000; ++i) {
      const auto count = static_cast<std::uint32_t>(1 + r.below(2 * q.n));
      const auto parallel = static_cast<std::uint32_t>(1 + r.below(std::min<std::uint32_t>(2, count)));
      rs.plans.push_back({rate_plan::kind::burst, herd_at, {}, count, parallel, 0});
    }
    // A request's worst unloaded path: client <-> proxy at most 5.2 ms each way, a new
    // upstream connection and the exchange 4 x 0.4 ms, so 12 ms; jitter (10 % per
    // segment, exponential) adds a few ms at the 99th percentile. Twice the worst path
    // leaves room for that and nothing else: a well-behaved request that queued behind
    // the herd anywhere (a lock, an exhausted pool, a connect timeout) lands beyond it.
    rs.p99_bound = 25ms;
  } else {
    q.n = r.chance(0.5) ? 5 : static_cast<std::uint32_t>(1 + r.below(20));
    q.window = ms(2000 + r.below(8001));
    q.burst = q.n - 1;
    s.length = 30s;
    if (name == "rate_limit_fixed_window") {
      q.algorithm = rate_limit_algorithm::fixed_window;
    } else if (name == "rate_limit_sliding_window") {
      q.algorithm = rate_limit_algorithm::sliding_window;
    } else if (name == "rate_limit_gcra") {
      q.algorithm = rate_limit_algorithm::gcra;
      if (r.chance(0.7)) rs.default_burst = false, q.burst = static_cast<std::uint32_t>(r.below(2 * q.n));
    } else {
      throw std::invalid_argument("unknown scenario: " + std::string(name));
    }
  }
  if (length) s.length = *length;
  if (name != "thundering_herd")
    detail::mixed_clients(r, rs, s.length, 60, 20, 10, q.algorithm == rate_limit_algorithm::fixed_window);
  s.allowed = {outcome::ok};
  s.rate = std::move(rs);
  return std::move(p).build();
}

}  // namespace bb::sim
