// bb::cluster: hosts' health as the passive checks and the active checker set it.

#include <bb/upstream/cluster.hpp>

#include "../lb/lb_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

using lb_test::make_cluster;
using namespace std::chrono_literals;

TEST_CASE("cluster passive backoff doubles per consecutive ejection up to its cap", "[upstream][cluster]") {
  auto c = make_cluster(1);
  const std::int64_t s = 1'000'000'000;
  CHECK(c.eject(0, lb_test::at(0), 10s, 25s));  // was up
  CHECK_FALSE(c.live(0, lb_test::at(10 * s - 1), true));
  CHECK(c.live(0, lb_test::at(10 * s), true));
  CHECK_FALSE(c.live(0, lb_test::at(10 * s), false));      // with active checks on, only a check revives it
  CHECK_FALSE(c.eject(0, lb_test::at(10 * s), 10s, 25s));  // second ejection: 20 s
  CHECK_FALSE(c.live(0, lb_test::at(30 * s - 1), true));
  CHECK(c.live(0, lb_test::at(30 * s), true));
  c.eject(0, lb_test::at(30 * s), 10s, 25s);  // third: 40 s, capped at 25 s
  CHECK(c.live(0, lb_test::at(55 * s), true));
  CHECK(c.restore(0));  // it answered: up, and the backoff starts over
  CHECK(c.live(0, lb_test::at(0), false));
  c.eject(0, lb_test::at(100 * s), 10s, 25s);
  CHECK(c.live(0, lb_test::at(110 * s), true));
}
