#pragma once
/// bb::sim::make_swarm_scenario: a run whose features and faults are all drawn from its seed.
///
/// Each seed draws, from a generator of its own, the proxy's settings (balancing policy
/// and weights, rise/fall, active check interval or passive checks, timeouts, pool size,
/// rate limit or none), the load (client count, rates, pipelining, body sizes, HEADs,
/// trickled uploads) and one to five faults among every kind the simulator has. Faults
/// happen before `heal_at`; there every one of them is healed, and from `heal_at +
/// liveness_bound` on every upstream must be up and every request must succeed.

#include <algorithm>
#include <bb/core/random.hpp>
#include <bb/lb/balance_policy.hpp>
#include <chrono>
#include <cstdint>
#include <sim/scenario.hpp>
#include <sim/swarm_setup.hpp>
#include <string>

namespace bb::sim {

/// The swarm run of `seed` (its name is "swarm").
inline scenario make_swarm_scenario(std::uint64_t seed) {
  using namespace std::chrono_literals;
  using fk = fault::kind;
  using detail::between;
  scenario s;
  s.name = "swarm";
  s.seed = seed;
  rng r = rng(seed).split();  // the parameters' own stream, as in make_scenario
  swarm_setup w;

  const std::size_t n = 2 + r.below(4);
  const bool weighted = r.below(2) == 0;
  for (std::size_t i = 1; i <= n; ++i) {
    upstream_spec u{"up" + std::to_string(i), behaviour::echo, 20ms};
    if (r.below(3) == 0) u.kind = behaviour::slow, u.slow_mean = between(r, 1ms, 20ms);
    u.weight = weighted ? static_cast<std::uint32_t>(1 + r.below(5)) : 1;
    s.upstreams.push_back(std::move(u));
  }
  s.balance = static_cast<bb::balance_policy>(r.below(6));

  if (r.below(3) != 0) s.health_interval_s = static_cast<std::uint32_t>(1 + r.below(3));
  w.rise = static_cast<std::uint32_t>(1 + r.below(3));
  w.fall = static_cast<std::uint32_t>(1 + r.below(3));
  if (s.health_interval_s && r.below(2) == 0)
    w.check_timeout = between(r, 200ms, std::chrono::seconds(s.health_interval_s));
  w.connect_timeout = between(r, 500ms, 3s);
  w.response_timeout = between(r, 500ms, 5s);
  w.passive_backoff = between(r, 500ms, 2s);
  w.passive_backoff_max = w.passive_backoff * static_cast<std::int64_t>(4 + r.below(13));
  w.pool_size = 1 + r.below(64);
  if (r.below(3) == 0) {
    w.algorithm = static_cast<rate_limit_algorithm>(r.below(3));
    w.rate_limit = static_cast<std::uint32_t>(100 + r.below(4901));
  }

  s.client_hosts = 4 + r.below(17);
  s.clients.rate = static_cast<double>(100 + r.below(301));
  s.clients.closed_users = r.below(9);
  s.clients.think_mean = between(r, 10ms, 200ms);
  s.clients.max_conns = 1 + r.below(6);
  s.clients.pipeline = 1 + r.below(4);
  s.clients.max_requests_per_conn = 5 + r.below(196);
  s.clients.max_body = 16 + r.below(4081);
  s.clients.post_fraction = static_cast<double>(r.below(61)) / 100.0;
  s.clients.head_fraction = static_cast<double>(r.below(31)) / 100.0;
  if (r.below(2) == 0) {
    s.clients.slow_upload_fraction = static_cast<double>(10 + r.below(41)) / 100.0;
    s.clients.upload_pause = between(r, 5ms, 40ms);
  }

  // Faults in [2 s, heal_at); a crash may be followed by a restart before the heal.
  w.heal_at = between(r, 8s, 20s);
  const auto faults = 1 + r.below(5);
  for (std::size_t k = 0; k < faults; ++k) {
    fault f{static_cast<fk>(r.below(static_cast<std::uint64_t>(fk::heal))), r.below(n), between(r, 2s, w.heal_at - 1s)};
    if (f.what == fk::restart) f.what = fk::crash;
    if (f.what == fk::misbehave) f.plan = detail::draw_misbehaviour(r);
    if (f.what == fk::throttle) f.amount = 2'000 + r.below(48'001);
    s.faults.push_back(f);
    if (f.what == fk::crash && r.below(2) == 0)
      s.faults.push_back({fk::restart, f.target, f.at + between(r, 100ms, w.heal_at - f.at - 100ms)});
  }
  for (std::size_t i = 0; i < n; ++i) s.faults.push_back({fk::heal, i, w.heal_at});
  std::stable_sort(s.faults.begin(), s.faults.end(), [](const fault& a, const fault& b) { return a.at < b.at; });

  // Active checks: the round in progress at the heal may still time out, then `rise`
  // rounds must pass. Passive: the backoff in force, at most its cap, then a request.
  if (s.health_interval_s) {
    const duration interval = std::chrono::seconds(s.health_interval_s);
    const duration spread = std::min<duration>(interval / 10, 1s);
    w.liveness_bound = interval * (w.rise + 1) + spread + std::max<duration>(w.check_timeout, 2s) + 500ms;
  } else {
    w.liveness_bound = w.passive_backoff_max + w.connect_timeout + 2s;
  }
  s.length = w.heal_at + w.liveness_bound + 8s;
  // Drawn last, so that the draws above stay what they were before it existed.
  if (r.below(3) == 0) s.clients.bare_post_fraction = static_cast<double>(10 + r.below(41)) / 100.0;
  // On a third of the seeds, slow readers behind small windows: the proxy's writes to them
  // wait, and with them its reads from the upstream (backpressure).
  if (r.below(3) == 0) {
    s.clients.slow_read_fraction = static_cast<double>(10 + r.below(41)) / 100.0;
    s.clients.read_pause = between(r, 1ms, 20ms);
    s.clients.receive_window = 256 + r.below(2 * 1024 + 1);
  }
  // On half, 2 to 4 proxy workers: their loops interleave, sharing health, balancer and limiter.
  if (r.below(2) == 0) s.proxy_workers = 2 + r.below(3);
  s.allowed = {outcome::ok};
  s.swarm = w;
  return s;
}

}  // namespace bb::sim
