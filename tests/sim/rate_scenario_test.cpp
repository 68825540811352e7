#include <algorithm>
#include <catch2/catch.hpp>
#include <sim/scenarios.hpp>
#include <sim/world.hpp>
#include <string>
#include <string_view>
#include "sanitized.hpp"

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

sim::report run(const std::string& name, std::uint64_t seed) {
  sim::world w(sim::make_scenario(name, seed));
  return w.run();
}

/// Runs `name` over seeds [first, last]: no violation, and the limit did refuse and admit.
void sweep(const std::string& name, std::uint64_t first, std::uint64_t last) {
  last = std::min(last, first + sim::testing::seeds(last - first, 1));
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    const auto r = run(name, seed);
    INFO("replay: build/bin/sim --scenario " << name << " --seed " << seed);
    INFO("first violation: " << r.first_violation);
    CHECK(r.violations == 0);
    // Not vacuous: requests were both admitted and refused, and every one was judged.
    CHECK(r.tally("rate: admitted") > 0);
    CHECK(r.tally("rate: refused") > 0);
    CHECK(r.tally("rate: admitted") + r.tally("rate: refused") == r.requests);
    if (name == "rate_limit_gcra" || name == "rate_limit_fixed_window") CHECK(r.tally("rate: waited Retry-After") > 0);
    if (name == "thundering_herd") {
      CHECK(r.requests > 10'000);
      REQUIRE(!r.figures.empty());
      CHECK(r.figures.front().samples > 100);
      CHECK(r.figures.front().max <= r.figures.front().bound);
    }
  }
}

}  // namespace

TEST_CASE("rate_limit_fixed_window holds every invariant over 20 seeds", "[sim][rate]") {
  sweep("rate_limit_fixed_window", 1, 20);
}
TEST_CASE("rate_limit_sliding_window holds every invariant over 20 seeds", "[sim][rate]") {
  sweep("rate_limit_sliding_window", 1, 20);
}
TEST_CASE("rate_limit_gcra holds every invariant over 20 seeds", "[sim][rate]") { sweep("rate_limit_gcra", 1, 20); }
// Two halves, so that ctest -j2 runs them side by side.
TEST_CASE("thundering_herd holds every invariant over seeds 1 to 10", "[sim][rate]") {
  sweep("thundering_herd", 1, 10);
}
TEST_CASE("thundering_herd holds every invariant over seeds 11 to 20", "[sim][rate]") {
  sweep("thundering_herd", 11, 20);
}

TEST_CASE("rate_limit_fixed_window gives the CS110L client 5 200s, 3 429s and the upstream 5", "[sim][rate]") {
  // Seed 1 draws N = 5, the original case; other seeds check N 200s and 3 429s in the run.
  const auto sc = sim::make_scenario("rate_limit_fixed_window", 1);
  REQUIRE(sc.rate->params.n == 5);
  sim::world w(sc);
  const auto r = w.run();
  CHECK(r.violations == 0);
  CHECK(r.tally("cs110l: 8 quick requests, 200s") == 5);
  CHECK(r.tally("cs110l: 429s") == 3);
  CHECK(r.tally("cs110l: reached an upstream") == 5);
}

TEST_CASE("a rate-limit run replays bit for bit from its seed", "[sim][determinism]") {
  const auto name = GENERATE(as<std::string>{}, "rate_limit_fixed_window", "rate_limit_sliding_window",
                             "rate_limit_gcra", "thundering_herd");
  const auto a = run(name, 42);
  const auto b = run(name, 42);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.events == b.events);
  CHECK(a.tallies == b.tallies);
  CHECK(run(name, 43).trace_hash != a.trace_hash);
}
