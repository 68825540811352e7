#pragma once
/// bb::sim::program: a scenario written as a short program over the world: its upstream
/// hosts and their behaviours, its clients and load, the proxy's settings and a fault
/// schedule that names hosts, in the spirit of turmoil:
///
///     auto sc = program("crash_then_back", seed)
///                   .upstreams(3)
///                   .clients(8, load)
///                   .active_checks(1)
///                   .at(20s, crash("up2"))
///                   .at(25s, restart("up2"))
///                   .build();
///     world w(std::move(sc));
///     w.run_until(22s);              // then look at the world, or act on it: w.act(hang("up1"))
///     report r = w.run();
///
/// A program only describes: world (sim/world.hpp) runs it. Every named scenario of
/// sim/scenarios.hpp is one of these, drawn from its seed.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sim/client.hpp>
#include <sim/invariants.hpp>
#include <sim/misbehaviour.hpp>
#include <sim/scenario.hpp>
#include <sim/upstream.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace bb::sim {

/// A fault on an upstream host named by its name, not yet given a time: program::at
/// schedules it, world::act carries it out at once.
struct action {
  fault::kind what;
  std::string host;
  misbehaviour plan{};       ///< misbehave: what it does
  std::uint64_t amount = 0;  ///< throttle: bytes per second
};

/// The host's process dies and stays down until restarted or healed.
inline action crash(std::string host) { return {fault::kind::crash, std::move(host)}; }
/// A crashed host's process starts again (no effect on a running one).
inline action restart(std::string host) { return {fault::kind::restart, std::move(host)}; }
/// The host answers 500 to everything, health checks included.
inline action answer_500(std::string host) { return {fault::kind::answer_500, std::move(host)}; }
/// The host's service times grow by the scenario's slowdown factor (10 outside the balancing scenarios).
inline action slow_down(std::string host) { return {fault::kind::slow_down, std::move(host)}; }
/// The host reads requests and never answers.
inline action hang(std::string host) { return {fault::kind::hang, std::move(host)}; }
/// The host sends half of each response, then closes the connection.
inline action half_then_close(std::string host) { return {fault::kind::half_then_close, std::move(host)}; }
/// The links between the proxy and the host hold every segment until healed.
inline action partition(std::string host) { return {fault::kind::partition, std::move(host)}; }
/// The host's processes freeze; its kernel still accepts connections.
inline action pause(std::string host) { return {fault::kind::pause, std::move(host)}; }
/// The link from the host to the proxy carries `bytes_per_second` (0: unlimited again).
inline action throttle(std::string host, std::uint64_t bytes_per_second) {
  return {fault::kind::throttle, std::move(host), {}, bytes_per_second};
}
/// The host starts writing bytes nobody asked for, as `plan` says.
inline action misbehave(std::string host, misbehaviour plan) { return {fault::kind::misbehave, std::move(host), plan}; }
/// Every fault on the host ends: it runs as specified, reachable at full speed.
inline action heal(std::string host) { return {fault::kind::heal, std::move(host)}; }

/// The index of the upstream called `name` in `sc`. Throws std::invalid_argument naming
/// it when there is none.
inline std::size_t upstream_index(const scenario& sc, std::string_view name) {
  for (std::size_t i = 0; i < sc.upstreams.size(); ++i)
    if (sc.upstreams[i].name == name) return i;
  throw std::invalid_argument("sim: no upstream called \"" + std::string(name) + "\"");
}

/// A scenario being written: each call adds to it and returns the program, so that a
/// scenario reads as one expression; build() hands it to a world.
class program {
public:
  /// An empty world called `name`, whose random draws (latencies, load, jitter) come from
  /// `seed`: no upstreams, 8 client hosts of default load, passive health checks only,
  /// random balancing, 60 virtual seconds, only 2xx answers allowed.
  program(std::string name, std::uint64_t seed) {
    sc_.name = std::move(name);
    sc_.seed = seed;
  }

  /// Adds upstream `u` (its name must be new).
  program& upstream(upstream_spec u) {
    for (const auto& v : sc_.upstreams)
      if (v.name == u.name) throw std::invalid_argument("sim: two upstreams called \"" + u.name + "\"");
    sc_.upstreams.push_back(std::move(u));
    return *this;
  }
  /// Adds `n` upstreams called upK, up(K+1), ... (K one past those already there) that
  /// behave as `kind` with mean service time `service`.
  program& upstreams(std::size_t n, behaviour kind = behaviour::echo,
                     duration service = std::chrono::milliseconds(20)) {
    for (std::size_t i = 0; i < n; ++i) upstream({"up" + std::to_string(sc_.upstreams.size() + 1), kind, service});
    return *this;
  }
  /// `hosts` client hosts (each an IP of its own) generating load as `load` says.
  program& clients(std::size_t hosts, const client_options& load) {
    sc_.client_hosts = hosts;
    sc_.clients = load;
    return *this;
  }
  /// Virtual time the clients generate load for (the run then winds down).
  program& length(duration d) {
    sc_.length = d;
    return *this;
  }
  /// Active health checks every `interval_s` seconds (0: passive checks with backoff only).
  program& active_checks(std::uint32_t interval_s) {
    sc_.health_interval_s = interval_s;
    return *this;
  }
  /// The proxy runs `n` workers (at least 1): loops interleaved by the executor, each with
  /// its own SO_REUSEPORT listener, sharing health, balancer and limiter.
  program& workers(std::size_t n) {
    if (n == 0) throw std::invalid_argument("sim: a proxy has at least one worker");
    sc_.proxy_workers = n;
    return *this;
  }
  /// The proxy's balancing policy.
  program& balance(bb::balance_policy p) {
    sc_.balance = p;
    return *this;
  }
  /// Allows outcome `o` outright (2xx always is); others must be excused by the watches.
  program& allow(outcome o) {
    if (std::find(sc_.allowed.begin(), sc_.allowed.end(), o) == sc_.allowed.end()) sc_.allowed.push_back(o);
    return *this;
  }
  /// Schedules `a` at virtual time `t`, after any action already scheduled at `t`. Throws
  /// std::invalid_argument when `a` names no upstream added so far.
  program& at(duration t, const action& a) {
    fault f{a.what, upstream_index(sc_, a.host), t, a.plan, a.amount};
    auto it = std::upper_bound(sc_.faults.begin(), sc_.faults.end(), t,
                               [](duration when, const fault& g) { return when < g.at; });
    sc_.faults.insert(it, f);
    return *this;
  }
  /// Takes `host` down and up for the whole run, for exponentially distributed times of
  /// means `up_mean` and `down_mean` (drawn from the world's fault stream).
  program& flap(std::string_view host, duration up_mean, duration down_mean) {
    sc_.flap_target = upstream_index(sc_, host);
    sc_.flap_up_mean = up_mean;
    sc_.flap_down_mean = down_mean;
    return *this;
  }

  /// The name of the i-th upstream added (for schedules drawn by index).
  [[nodiscard]] const std::string& upstream_name(std::size_t i) const { return sc_.upstreams.at(i).name; }
  /// The scenario so far, for the settings no call above covers.
  [[nodiscard]] scenario& spec() noexcept { return sc_; }
  /// The finished scenario.
  [[nodiscard]] scenario build() && { return std::move(sc_); }
  [[nodiscard]] scenario build() const& { return sc_; }

private:
  scenario sc_;
};

}  // namespace bb::sim
