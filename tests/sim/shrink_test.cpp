// The shrinker (sim/shrink.hpp) ends at the smallest case that breaks the same invariant:
// over a synthetic failure injected through its run function (a proxy broken on purpose
// cannot be had without editing it), and over a real not_live.

#include <algorithm>
#include <catch2/catch.hpp>
#include <sim/case_file.hpp>
#include <sim/shrink.hpp>
#include <sim/swarm.hpp>
#include <sim/world.hpp>
#include <string>
#include "case_text.hpp"

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

using sim_test::read_text;
using sim_test::text_of;

std::size_t faults_but_heals(const sim::scenario& sc) {
  return static_cast<std::size_t>(std::count_if(sc.faults.begin(), sc.faults.end(),
                                                [](const sim::fault& f) { return f.what != sim::fault::kind::heal; }));
}

/// The synthetic failure: a hang on up3 while a rate limit is on breaks "synthetic";
/// pipelining alone breaks "other", which must not count as the same failure.
sim::report synthetic(const sim::scenario& sc) {
  sim::report r;
  const bool hang_on_up3 = std::any_of(sc.faults.begin(), sc.faults.end(), [&](const sim::fault& f) {
    return f.what == sim::fault::kind::hang && sc.upstreams[f.target].name == "up3";
  });
  if (hang_on_up3 && sc.swarm->rate_limit > 0) r.first_violation = "synthetic (#0): hang on up3 under a rate limit";
  else if (sc.clients.pipeline > 1) r.first_violation = "other (#0): pipelined";
  r.violations = r.first_violation.empty() ? 0 : 1;
  return r;
}

}  // namespace

TEST_CASE("shrink ends at exactly the fault and features a synthetic failure needs", "[sim][shrink]") {
  // A real draw with more faults and upstreams than the failure needs, plus the two it needs.
  auto sc = sim::make_swarm_scenario(GENERATE(11u, 42u, 77u));
  std::erase_if(sc.faults, [](const sim::fault& f) { return f.what == sim::fault::kind::hang && f.target == 2; });
  while (sc.upstreams.size() < 4) {
    sc.upstreams.push_back({"up" + std::to_string(sc.upstreams.size() + 1), sim::behaviour::echo, 20ms});
    sc.faults.push_back({sim::fault::kind::heal, sc.upstreams.size() - 1, sc.swarm->heal_at});
  }
  sc.faults.push_back({sim::fault::kind::hang, 2, 3s});
  sc.faults.push_back({sim::fault::kind::crash, 0, 4s});
  std::stable_sort(sc.faults.begin(), sc.faults.end(),
                   [](const sim::fault& a, const sim::fault& b) { return a.at < b.at; });
  sc.swarm->rate_limit = 600;
  sc.clients.pipeline = 3;
  sc.clients.max_body = 1000;
  const auto first = synthetic(sc);
  REQUIRE(first.violations == 1);
  sim::shrink_options opt;
  opt.run = synthetic;
  const auto res = sim::shrink(sc, first, "synthetic", opt);
  const auto& m = res.minimal;
  INFO(text_of(m));
  CHECK(res.invariant == "synthetic");
  CHECK(res.faults_before == faults_but_heals(sc));
  CHECK(res.faults_after == 1);
  REQUIRE(m.upstreams.size() == 1);  // every other upstream is named by no kept fault
  CHECK(m.upstreams[0].name == "up3");
  const auto hang = std::find_if(m.faults.begin(), m.faults.end(),
                                 [](const sim::fault& f) { return f.what == sim::fault::kind::hang; });
  REQUIRE(hang != m.faults.end());
  CHECK(hang->at == 3s);
  CHECK(m.swarm->rate_limit == 600);  // needed: kept
  CHECK(m.clients.pipeline == 1);     // "other" is not the same failure, so pipelining went
  CHECK(m.clients.max_body == 16);
  CHECK(m.swarm->pool_size == 64);
  CHECK(m.client_hosts == 1);
  CHECK(m.swarm->heal_at == 4s);
  CHECK(m.length == 4s + m.swarm->liveness_bound + 1s);
  CHECK(m.balance == bb::balance_policy::random);
  CHECK(res.runs <= 200);
  CHECK(synthetic(read_text(text_of(m))).first_violation == res.last.first_violation);
}

TEST_CASE("shrink spends no more runs than its budget", "[sim][shrink]") {
  auto sc = sim::make_swarm_scenario(42);
  sc.faults.push_back({sim::fault::kind::hang, 2 % sc.upstreams.size(), 3s});
  sc.upstreams[2 % sc.upstreams.size()].name = "up3";
  sc.swarm->rate_limit = 600;
  std::stable_sort(sc.faults.begin(), sc.faults.end(),
                   [](const sim::fault& a, const sim::fault& b) { return a.at < b.at; });
  std::size_t calls = 0;
  sim::shrink_options opt;
  opt.max_runs = 5;
  opt.run = [&](const sim::scenario& s) { return ++calls, synthetic(s); };
  const auto res = sim::shrink(sc, synthetic(sc), "synthetic", opt);
  CHECK(res.runs == 5);
  CHECK(calls == 5);
}

TEST_CASE("shrink reduces a real not_live to the crash that causes it", "[sim][shrink]") {
  // A liveness bound of 0 cannot be met by a host that crashed and was never restarted:
  // the heal restarts it, but the cluster still has it down at that instant. Active checks
  // (every second), so that the host is judged at the bound (with passive checks it is
  // judged only once requests reach the upstreams again).
  auto sc = sim::make_swarm_scenario(6);
  sc.health_interval_s = 1;
  sc.faults.push_back({sim::fault::kind::crash, 0, 2s});
  std::stable_sort(sc.faults.begin(), sc.faults.end(),
                   [](const sim::fault& a, const sim::fault& b) { return a.at < b.at; });
  sc.swarm->liveness_bound = 0s;
  sc.length = sc.swarm->heal_at + 8s;
  const auto first = sim::world(sc).run();
  INFO(first.first_violation);
  REQUIRE(sim::invariant_of(first.first_violation) == "not_live");
  sim::shrink_options opt;
  opt.max_runs = 60;
  const auto res = sim::shrink(sc, first, "not_live", opt);
  INFO(text_of(res.minimal));
  CHECK(res.faults_after < res.faults_before);
  CHECK(res.faults_after >= 1);
  CHECK(res.minimal.swarm->heal_at < sc.swarm->heal_at);
  CHECK(res.runs <= 60);
  const auto again = sim::world(read_text(text_of(res.minimal))).run();
  CHECK(sim::invariant_of(again.first_violation) == "not_live");
  CHECK(again.trace_hash == res.last.trace_hash);
}
