#include <catch2/catch.hpp>
#include <set>
#include <sim/scenarios.hpp>
#include <sim/world.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include "sanitized.hpp"

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

constexpr std::uint64_t first_seed = 1, seeds = sim::testing::seeds(20, 5);

sim::report run(const std::string& name, std::uint64_t seed, sim::duration length = 20s) {
  sim::world w(sim::make_scenario(name, seed, length));
  return w.run();
}

/// The worst case of the figure called `name`, and how many episodes it covers.
const sim::figure& figure_of(const sim::report& r, std::string_view name) {
  for (const auto& f : r.figures)
    if (f.name == name) return f;
  FAIL("no figure " << name);
  throw std::logic_error("unreachable");
}

void sweep(const std::string& name) {
  for (std::uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    const auto r = run(name, seed);
    INFO("replay: build/bin/sim --scenario " << name << " --seed " << seed << " --duration 20");
    INFO("first violation: " << r.first_violation);
    CHECK(r.violations == 0);
    CHECK(r.requests > 0);
    CHECK(r.checks > r.requests);
    // The faults happened and the watch saw them: the invariants above were not vacuous.
    if (name == "passive_failover" || name == "upstream_crash")
      CHECK(figure_of(r, "detect: crash→marked down").samples == 1);
    if (name == "active_restore") CHECK(figure_of(r, "recover: restart→first request").samples == 2);
    if (name == "http_500") CHECK(figure_of(r, "detect: 500s→marked down").samples == 1);
    // One upstream also starts writing unasked bytes there: they reached the proxy.
    if (name == "http_500" || name == "upstream_crash" || name == "active_restore")
      CHECK(r.tally("unsolicited: unasked writes") + r.tally("early answers: 413 before") > 0);
    if (name == "all_down") {
      CHECK(figure_of(r, "all down: request→502").samples > 0);
      CHECK(figure_of(r, "recover: restart→first request").samples == 1);
    }
  }
}

}  // namespace

TEST_CASE("steady holds every invariant over 20 seeds", "[sim][scenario]") { sweep("steady"); }
TEST_CASE("upstream_crash holds every invariant over 20 seeds", "[sim][scenario]") { sweep("upstream_crash"); }
TEST_CASE("upstream_flap holds every invariant over 20 seeds", "[sim][scenario]") { sweep("upstream_flap"); }
TEST_CASE("passive_failover holds every invariant over 20 seeds", "[sim][scenario]") { sweep("passive_failover"); }
TEST_CASE("active_restore holds every invariant over 20 seeds", "[sim][scenario]") { sweep("active_restore"); }
TEST_CASE("http_500 holds every invariant over 20 seeds", "[sim][scenario]") { sweep("http_500"); }
TEST_CASE("all_down holds every invariant over 20 seeds", "[sim][scenario]") { sweep("all_down"); }

TEST_CASE("steady answers every request with a 2xx", "[sim][scenario]") {
  const auto r = run("steady", 7);
  CHECK(r.by_outcome[static_cast<int>(sim::outcome::ok)] == r.requests);
}

TEST_CASE("passive_failover shows clients no error but the POSTs a crash cut", "[sim][scenario]") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto r = run("passive_failover", seed);
    std::uint64_t excused = 0;
    for (const auto& [what, n] : r.tallies)
      if (what.starts_with("non-idempotent requests cut by a crash")) excused = n;
    INFO("replay: build/bin/sim --scenario passive_failover --seed " << seed << " --duration 20");
    CHECK(r.requests - r.by_outcome[static_cast<int>(sim::outcome::ok)] == excused);
  }
}

TEST_CASE("a run replays bit for bit from its seed", "[sim][determinism]") {
  const auto name = GENERATE(as<std::string>{}, "steady", "upstream_crash", "upstream_flap", "passive_failover",
                             "active_restore", "http_500", "all_down");
  const auto a = run(name, 42, 10s);
  const auto b = run(name, 42, 10s);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.events == b.events);
  CHECK(a.requests == b.requests);
}

TEST_CASE("different seeds give different traces", "[sim][determinism]") {
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) hashes.insert(run("upstream_flap", seed, 5s).trace_hash);
  CHECK(hashes.size() == 10);
}

TEST_CASE("make_scenario derives the same parameters from the same seed", "[sim][scenario]") {
  CHECK(sim::make_scenario("steady", 3).parameters() == sim::make_scenario("steady", 3).parameters());
  CHECK(sim::make_scenario("steady", 3).parameters() != sim::make_scenario("steady", 4).parameters());
  CHECK_THROWS_AS(sim::make_scenario("no_such_scenario", 1), std::invalid_argument);
}

TEST_CASE("every failover scenario holds every invariant under every balancing policy", "[sim][scenario][balance]") {
  // A policy must never send traffic to a host the health checks took down, nor keep a
  // restarted one waiting (peak-ewma once did: the failures before the crash had inflated
  // its estimate, which then took tens of seconds to fade).
  for (const auto* name :
       {"upstream_crash", "upstream_flap", "passive_failover", "active_restore", "http_500", "all_down"})
    for (const auto policy :
         {bb::balance_policy::round_robin, bb::balance_policy::least_requests, bb::balance_policy::p2c,
          bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma})
      for (std::uint64_t seed = 1; seed <= sim::testing::seeds(3, 1); ++seed) {
        sim::world w(sim::make_scenario(name, seed, 20s, policy));
        const auto r = w.run();
        INFO("replay: build/bin/sim --scenario " << name << " --balance " << to_string(policy) << " --seed " << seed
                                                 << " --duration 20");
        INFO("first violation: " << r.first_violation);
        CHECK(r.violations == 0);
        CHECK(r.requests > 0);
      }
}

TEST_CASE("peak-ewma gets a restarted upstream traffic within the recovery bound over 10 seeds",
          "[sim][scenario][balance]") {
  for (std::uint64_t seed = 1; seed <= sim::testing::seeds(10, 3); ++seed) {
    sim::world w(sim::make_scenario("upstream_flap", seed, {}, bb::balance_policy::peak_ewma));
    const auto r = w.run();
    INFO("replay: build/bin/sim --scenario upstream_flap --balance peak-ewma --seed " << seed);
    INFO("first violation: " << r.first_violation);
    CHECK(r.violations == 0);
    CHECK(figure_of(r, "recover: restart→first request").samples > 0);
  }
}
