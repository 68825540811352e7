#pragma once
/// bb::sim::world: one scenario run — the hosts, the proxy under test, its upstreams and
/// clients, the faults — and the report that comes out of it.
///
/// The proxy is the very bb::proxy the application runs, instantiated in world.cpp (and
/// only there) over sim::transport and sim::virtual_clock on the host "proxy". It is built as
/// the application builds a worker: upstream health in a shared_state with one active
/// checker. The checker runs here, on a transport of its own on the same host (a handle
/// like any other), so the failover watch, which taps the proxy's transport, sees client
/// traffic to the upstreams apart from health checks.

#include <cstdint>
#include <memory>
#include <optional>
#include <sim/balance_watch.hpp>
#include <sim/failover_watch.hpp>
#include <sim/invariants.hpp>
#include <sim/program.hpp>
#include <sim/scenario.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

class network;
class timeline;
class trace;

/// What a run produced.
struct report {
  std::uint64_t requests = 0;
  std::uint64_t by_outcome[outcome_count] = {};
  std::uint64_t events = 0;
  std::uint64_t trace_records = 0;
  std::uint64_t trace_hash = 0;
  std::uint64_t checks = 0;
  std::uint64_t violations = 0;
  std::uint64_t client_connections = 0;
  duration virtual_time{0};
  std::string first_violation;  // empty when none
  duration first_violation_at{0};
  /// Detection and recovery times (the failover watch's), and what it counted.
  std::vector<figure> figures;
  std::vector<std::pair<std::string, std::uint64_t>> tallies;
  /// The balancing scenarios' shares and latencies.
  std::optional<balance_report> balance;

  /// The count of the first tally whose name starts with `prefix`; 0 when there is none.
  [[nodiscard]] std::uint64_t tally(std::string_view prefix) const {
    for (const auto& [what, n] : tallies)
      if (what.starts_with(prefix)) return n;
    return 0;
  }
};
/// Builds one scenario's world (hosts, proxy, upstreams, clients, watches) from `sc` (data,
/// or a sim/program.hpp program), runs it to its end with run() — in steps with
/// run_until(), acting on it and looking at it between them, if the test wants — and
/// reports what happened and which invariants broke.
class world {
public:
  explicit world(scenario sc);
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  /// Records the run into `t` (which must outlive it); call before run(). The timeline
  /// only observes: the run, its trace and its report are the same with or without it.
  void attach(timeline& t);
  /// Runs the world until virtual time `t` (started on the first call; at once when `t` has
  /// passed): the load, the fault schedule and the watches go on from there at the next
  /// call. A run stepped this way is the same run, event for event, as one run() call.
  /// Throws std::logic_error once the run is over.
  void run_until(duration t);
  /// Carries out `a` now, as a scheduled fault would (the watches and the timeline hear of
  /// it). Throws std::logic_error before the first run_until or after the load is over,
  /// std::invalid_argument when `a` names no upstream.
  void act(const action& a);
  /// Runs the scenario (from where run_until left it) to its end and checks what must
  /// hold afterwards.
  report run();
  /// The world's virtual time.
  [[nodiscard]] duration now() const noexcept;
  /// Whether the proxy holds upstream `name` up (its shared health state, as active and
  /// passive checks left it). Throws std::invalid_argument when there is no such upstream,
  /// std::logic_error when the scenario runs without a proxy.
  [[nodiscard]] bool proxy_holds_up(std::string_view name) const;
  /// Requests the clients have issued so far.
  [[nodiscard]] std::uint64_t requests() const noexcept;
  /// Responses so far with outcome `o`.
  [[nodiscard]] std::uint64_t answered(outcome o) const noexcept;
  /// The run's trace (a sink set on it sees every record).
  [[nodiscard]] trace& tracer() noexcept;
  /// The simulated network the run happens on.
  [[nodiscard]] network& net() noexcept;
  /// The scenario this world runs.
  [[nodiscard]] const scenario& spec() const noexcept;

private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bb::sim
