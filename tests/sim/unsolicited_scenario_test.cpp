#include <catch2/catch.hpp>
#include <sim/scenarios.hpp>
#include <sim/world.hpp>
#include <string_view>
#include "sanitized.hpp"

using namespace std::chrono_literals;
namespace sim = bb::sim;

TEST_CASE("unsolicited holds every invariant over 20 seeds", "[sim][scenario][unsolicited]") {
  std::uint64_t raced = 0, idle = 0, excused = 0, relayed = 0;
  for (std::uint64_t seed = 1; seed <= sim::testing::seeds(20, 5); ++seed) {
    sim::world w(sim::make_scenario("unsolicited", seed, 20s));
    const auto r = w.run();
    INFO("replay: build/bin/sim --scenario unsolicited --seed " << seed << " --duration 20");
    INFO("first violation: " << r.first_violation);
    CHECK(r.violations == 0);
    // Not vacuous: the upstreams did misbehave towards the proxy.
    CHECK(r.tally("unsolicited: unasked writes") + r.tally("early answers: 413 before") > 0);
    raced += r.tally("unsolicited: raced");
    idle += r.tally("unsolicited: arrived on an idle");
    excused += r.tally("unsolicited: wrong answers from a race");
    relayed += r.tally("early answers: 413 relayed");
  }
  // Over the sweep, both sides of the race happened, and the excuses were used.
  CHECK(raced > 0);
  CHECK(idle > 0);
  CHECK(excused > 0);
  CHECK(relayed > 0);
}

TEST_CASE("unsolicited holds every invariant under every balancing policy", "[sim][scenario][unsolicited][balance]") {
  for (const auto policy :
       {bb::balance_policy::round_robin, bb::balance_policy::least_requests, bb::balance_policy::p2c,
        bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma})
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      sim::world w(sim::make_scenario("unsolicited", seed, 10s, policy));
      const auto r = w.run();
      INFO("replay: build/bin/sim --scenario unsolicited --balance " << to_string(policy) << " --seed " << seed
                                                                     << " --duration 10");
      INFO("first violation: " << r.first_violation);
      CHECK(r.violations == 0);
    }
}

TEST_CASE("an unsolicited run replays bit for bit from its seed", "[sim][determinism][unsolicited]") {
  const auto a = sim::world(sim::make_scenario("unsolicited", 42, 10s)).run();
  const auto b = sim::world(sim::make_scenario("unsolicited", 42, 10s)).run();
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.events == b.events);
  CHECK(a.requests == b.requests);
}
