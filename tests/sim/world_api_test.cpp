// The world API: scenarios written as programs with a fault schedule that names hosts, and
// a world a test steps through with run_until, acting on it and looking at it between steps.

#include <catch2/catch.hpp>
#include <sim/program.hpp>
#include <sim/scenarios.hpp>
#include <sim/world.hpp>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

/// Light load: 6 client hosts, 150 requests a second and 4 closed-loop users, a third POSTs.
sim::client_options light_load() {
  sim::client_options o;
  o.rate = 150;
  o.closed_users = 4;
  o.think_mean = 50ms;
  o.max_conns = 2;
  o.pipeline = 2;
  o.max_requests_per_conn = 40;
  o.max_body = 200;
  o.post_fraction = 0.3;
  return o;
}

}  // namespace

TEST_CASE("a program's schedule names hosts and stays in time order", "[sim][world]") {
  auto p = sim::program("schedule", 1).upstreams(3);
  p.at(20s, sim::crash("up2")).at(10s, sim::answer_500("up1")).at(20s, sim::restart("up2"));
  p.at(5s, sim::throttle("up3", 4096));
  const auto sc = p.build();
  REQUIRE(sc.faults.size() == 4);
  CHECK(sc.faults[0].what == sim::fault::kind::throttle);
  CHECK(sc.faults[0].target == 2);
  CHECK(sc.faults[0].amount == 4096);
  CHECK(sc.faults[1].what == sim::fault::kind::answer_500);
  CHECK(sc.faults[1].at == 10s);
  CHECK(sc.faults[2].what == sim::fault::kind::crash);  // two at 20 s: in the order scheduled
  CHECK(sc.faults[3].what == sim::fault::kind::restart);
  CHECK(sc.faults[3].target == 1);
  CHECK(sc.upstreams[2].name == "up3");
}

TEST_CASE("a program refuses a host it does not have, and a name used twice", "[sim][world]") {
  auto p = sim::program("bad", 1).upstreams(2);
  CHECK_THROWS_WITH(p.at(1s, sim::crash("up9")), Catch::Contains("\"up9\""));
  CHECK_THROWS_AS(p.upstream({"up1"}), std::invalid_argument);
  CHECK_THROWS_AS(p.flap("db", 1s, 1s), std::invalid_argument);
  CHECK(p.build().faults.empty());
}

TEST_CASE("a world stepped with run_until is the same run as one run() call", "[sim][world]") {
  const auto sc = sim::make_scenario("upstream_crash", 3, 20s);
  sim::world whole(sc);
  const auto a = whole.run();
  sim::world stepped(sc);
  stepped.run_until(5s);
  CHECK(stepped.now() == 5s);
  stepped.run_until(5s);  // again: nothing happens
  stepped.run_until(12'345'678'901ns);
  CHECK(stepped.requests() > 0);
  const auto b = stepped.run();
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.requests == b.requests);
  CHECK(a.events == b.events);
  CHECK(b.violations == 0);
}

TEST_CASE("a test acts on a running world and sees the proxy's view of its hosts", "[sim][world]") {
  // Active checks every second (rise 1, fall 1, timeout 1 s): a crashed host is down
  // after the next round, a restarted one up after the round after its restart.
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    INFO("seed " << seed);
    sim::world w(sim::program("act", seed).upstreams(3).clients(6, light_load()).active_checks(1).length(20s).build());
    CHECK_THROWS_AS(w.act(sim::crash("up2")), std::logic_error);  // not started
    w.run_until(5s);
    CHECK(w.proxy_holds_up("up1"));
    CHECK(w.proxy_holds_up("up2"));
    w.act(sim::crash("up2"));
    CHECK(w.now() == 5s);
    CHECK(w.proxy_holds_up("up2"));  // nothing has checked it yet
    w.run_until(7500ms);
    CHECK_FALSE(w.proxy_holds_up("up2"));
    CHECK(w.proxy_holds_up("up1"));
    CHECK(w.proxy_holds_up("up3"));
    CHECK_THROWS_AS(w.act(sim::crash("db")), std::invalid_argument);
    w.act(sim::restart("up2"));
    w.run_until(10s);
    CHECK(w.proxy_holds_up("up2"));
    const auto r = w.run();
    // The crash was acted, not scheduled: the failover watch still knew of it, so the
    // POSTs it cut were excused and nothing else went wrong.
    CHECK(r.violations == 0);
    CHECK(r.first_violation.empty());
    CHECK(r.requests ==
          r.by_outcome[static_cast<int>(sim::outcome::ok)] + r.tally("non-idempotent requests cut by a crash"));
    CHECK_THROWS_AS(w.run_until(30s), std::logic_error);
    CHECK_THROWS_AS(w.act(sim::heal("up2")), std::logic_error);
  }
}

TEST_CASE("a fault acted on a world is judged like a scheduled one", "[sim][world]") {
  // up1 answers 500 from 4 s: with only 2xx allowed, the 500s before the checks see it are
  // excused by the failover watch, those after would not be; the proxy takes it out.
  sim::world w(sim::program("500s", 4).upstreams(3).clients(6, light_load()).active_checks(1).length(12s).build());
  w.run_until(4s);
  w.act(sim::answer_500("up1"));
  w.run_until(6500ms);
  CHECK_FALSE(w.proxy_holds_up("up1"));
  const auto r = w.run();
  CHECK(r.violations == 0);
  CHECK(r.by_outcome[static_cast<int>(sim::outcome::server_error)] == r.tally("500s passed through before detection"));
}

TEST_CASE("a proxy of several workers serves a world with every invariant holding", "[sim][world]") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    INFO("seed " << seed);
    auto p = sim::program("workers", seed).upstreams(3).clients(12, light_load()).active_checks(1).workers(3);
    p.length(15s).at(5s, sim::crash("up1")).at(8s, sim::restart("up1"));
    const auto r = sim::world(std::move(p).build()).run();
    CHECK(r.violations == 0);
    CHECK(r.first_violation.empty());
    for (int k = 1; k <= 3; ++k)  // the port's connections spread over every worker
      CHECK(r.tally("proxy worker " + std::to_string(k) + ": client connections accepted") > 0);
    CHECK(r.tally("proxy worker 4") == 0);
  }
  CHECK_THROWS_AS(sim::program("none", 1).workers(0), std::invalid_argument);
}
