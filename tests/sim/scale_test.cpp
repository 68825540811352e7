// Worlds past the old fixed limits (255 upstreams, 64,000 client hosts, 32 upstreams in the
// failover watch, 64 in the swarm watch, 8 in the balance watch) run with every invariant.

#include <catch2/catch.hpp>
#include <sim/network.hpp>
#include <sim/scenarios.hpp>
#include <sim/world.hpp>
#include <string>

using namespace std::chrono_literals;
namespace sim = bb::sim;

TEST_CASE("a world of 300 upstreams and 70,000 client hosts holds every invariant", "[sim][scale]") {
  auto sc = sim::make_scenario("upstream_crash", 1, 6s);
  const auto base = sc.upstreams[0];
  sc.upstreams.clear();
  for (std::size_t i = 0; i < 300; ++i) {
    sc.upstreams.push_back(base);
    sc.upstreams.back().name = "up" + std::to_string(i + 1);
  }
  sc.faults = {{sim::fault::kind::crash, 299, 2s}};  // the last one: an index past every old limit
  sc.client_hosts = 70'000;
  sc.clients.rate = 2000;
  sim::world w(sc);
  // Upstream 300 past 10.0.1.250, client host 64,001 past 10.1.255.250.
  CHECK(w.net().find(bb::ip_address::v4(10, 0, 2, 50)) != nullptr);
  CHECK(w.net().find(bb::ip_address::v4(10, 3, 0, 1)) != nullptr);
  const auto r = w.run();
  INFO("first violation: " << r.first_violation);
  CHECK(r.violations == 0);
  CHECK(r.requests > 8000);
  CHECK(r.by_outcome[static_cast<int>(sim::outcome::ok)] > r.requests * 99 / 100);
}

TEST_CASE("hash_stability over 12 upstreams judges every pick and every neighbour's share", "[sim][scale]") {
  auto sc = sim::make_scenario("hash_stability", 1);
  const auto base = sc.upstreams[0];
  for (std::size_t i = 3; i < 12; ++i) {
    sc.upstreams.push_back(base);
    sc.upstreams.back().name = "up" + std::to_string(i + 1);
    sc.upstreams.back().weight = 1;
  }
  const auto r = sim::world(sc).run();
  INFO("first violation: " << r.first_violation);
  CHECK(r.violations == 0);
  CHECK(r.tally("hash: first attempts judged") * 10 >= r.requests * 9);
  CHECK(r.tally("hash: shares of the moved clients judged") == 11);
}
