#include <catch2/catch.hpp>
#include <sim/scenario.hpp>
#include <sim/world.hpp>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

sim::scenario with_upstreams(sim::behaviour b, std::initializer_list<sim::outcome> allowed) {
  auto sc = sim::make_scenario("steady", 5, 5s);
  for (auto& u : sc.upstreams) u.kind = b;
  sc.allowed = allowed;
  return sc;
}

std::uint64_t count(const sim::report& r, sim::outcome o) { return r.by_outcome[static_cast<int>(o)]; }

}  // namespace

TEST_CASE("clients reach echo upstreams directly when no proxy stands between", "[sim][upstream]") {
  auto sc = sim::make_scenario("steady", 3, 5s);
  sc.through_proxy = false;
  const auto r = sim::world(sc).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::ok) == r.requests);
}

TEST_CASE("a slow upstream still answers every request intact", "[sim][upstream]") {
  const auto r = sim::world(with_upstreams(sim::behaviour::slow, {sim::outcome::ok})).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::ok) == r.requests);
}

TEST_CASE("an always_500 upstream's answers reach the client as 5xx", "[sim][upstream]") {
  const auto r = sim::world(with_upstreams(sim::behaviour::always_500, {sim::outcome::server_error})).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::server_error) == r.requests);
}

TEST_CASE("a hanging upstream ends in the proxy's timeout, not in a stuck run", "[sim][upstream]") {
  auto sc = with_upstreams(sim::behaviour::hang, {sim::outcome::server_error, sim::outcome::timeout,
                                                  sim::outcome::conn_error});
  const auto r = sim::world(sc).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(r.requests > 0);
  CHECK(count(r, sim::outcome::ok) == 0);
}

TEST_CASE("a half response then close never passes for a complete one", "[sim][upstream]") {
  auto sc = with_upstreams(sim::behaviour::half_then_close, {sim::outcome::server_error, sim::outcome::conn_error});
  const auto r = sim::world(sc).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::ok) == 0);
}

TEST_CASE("a disallowed outcome is reported as the first violation with its time", "[sim][invariants]") {
  const auto r = sim::world(with_upstreams(sim::behaviour::always_500, {sim::outcome::ok})).run();
  CHECK(r.violations > 0);
  CHECK(r.first_violation.find("disallowed_outcome") == 0);
  CHECK(r.first_violation_at > sim::duration{0});
}

TEST_CASE("payload_checksum is the checksum of the payload it stands for", "[sim][http_lite]") {
  for (std::size_t size : {0, 1, 7, 8, 9, 63, 64, 65, 511})
    for (std::uint64_t id : {1, 2, 1000003}) CHECK(sim::http_lite::payload_checksum(id, size) == sim::checksum(sim::http_lite::payload(id, size)));
}
