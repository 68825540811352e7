#include <catch2/catch.hpp>
#include <set>
#include <sim/scenario.hpp>
#include <sim/world.hpp>
#include <string>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

constexpr std::uint64_t first_seed = 1, seeds = 20;

sim::report run(const std::string& name, std::uint64_t seed, sim::duration length = 20s) {
  sim::world w(sim::make_scenario(name, seed, length));
  return w.run();
}

void sweep(const std::string& name) {
  for (std::uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    const auto r = run(name, seed);
    INFO("replay: build/bin/sim --scenario " << name << " --seed " << seed << " --duration 20");
    INFO("first violation: " << r.first_violation);
    CHECK(r.violations == 0);
    CHECK(r.requests > 0);
    CHECK(r.checks > r.requests);
  }
}

}  // namespace

TEST_CASE("steady holds every invariant over 20 seeds", "[sim][scenario]") { sweep("steady"); }
TEST_CASE("upstream_crash holds every invariant over 20 seeds", "[sim][scenario]") { sweep("upstream_crash"); }
TEST_CASE("upstream_flap holds every invariant over 20 seeds", "[sim][scenario]") { sweep("upstream_flap"); }

TEST_CASE("steady answers every request with a 2xx", "[sim][scenario]") {
  const auto r = run("steady", 7);
  CHECK(r.by_outcome[static_cast<int>(sim::outcome::ok)] == r.requests);
}

TEST_CASE("upstream_crash records the errors the crash causes", "[sim][scenario]") {
  std::uint64_t errors = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto r = run("upstream_crash", seed);
    errors += r.requests - r.by_outcome[static_cast<int>(sim::outcome::ok)];
  }
  CHECK(errors > 0);  // until failover exists, a dead upstream shows through to clients
}

TEST_CASE("a run replays bit for bit from its seed", "[sim][determinism]") {
  const auto name = GENERATE(as<std::string>{}, "steady", "upstream_crash", "upstream_flap");
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
