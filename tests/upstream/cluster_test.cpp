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
  CHECK_FALSE(c.live(0, lb_test::at(10 * s), false));            // with active checks on, only a check revives it
  CHECK_FALSE(c.eject(0, lb_test::at(10 * s), 10s, 25s, true));  // its probe failed: 20 s
  CHECK_FALSE(c.live(0, lb_test::at(30 * s - 1), true));
  CHECK(c.live(0, lb_test::at(30 * s), true));
  c.eject(0, lb_test::at(30 * s), 10s, 25s, true);  // the next: 40 s, capped at 25 s
  CHECK(c.live(0, lb_test::at(55 * s), true));
  CHECK(c.restore(0));  // it answered: up, and the backoff starts over
  CHECK(c.live(0, lb_test::at(0), false));
  c.eject(0, lb_test::at(100 * s), 10s, 25s);
  CHECK(c.live(0, lb_test::at(110 * s), true));
}

// Found by `sim --swarm --seed 27`: a partition made every connect in flight time out, and
// each failure doubled the backoff, so the first retry came after the cap, not the base.
TEST_CASE("cluster counts an outage once, however many attempts its failure catches", "[upstream][cluster]") {
  auto c = make_cluster(1);
  const std::int64_t s = 1'000'000'000;
  CHECK(c.eject(0, lb_test::at(0), 1s, 60s));
  for (int k = 1; k <= 10; ++k) CHECK_FALSE(c.eject(0, lb_test::at(k * s / 100), 1s, 60s));  // attempts already out
  CHECK(c.live(0, lb_test::at(s), true));                                                    // still the base backoff
  CHECK(c.claim_retry(0, lb_test::at(s), 1s, 60s));
  CHECK_FALSE(c.eject(0, lb_test::at(s), 1s, 60s, true));  // the probe failed: now 2 s
  CHECK_FALSE(c.live(0, lb_test::at(3 * s - 1), true));
  CHECK(c.live(0, lb_test::at(3 * s), true));
}

// Found by `sim --swarm --seed 31`: once a down host's backoff ran out, every request in
// the next connect timeout went to it (p2c and a partition: dozens of connects at once).
TEST_CASE("cluster grants a down host's probe to exactly one caller per backoff", "[upstream][cluster]") {
  auto c = make_cluster(2);
  const std::int64_t s = 1'000'000'000;
  CHECK_FALSE(c.claim_retry(0, lb_test::at(0), 1s, 60s));  // up: nothing to probe
  c.eject(0, lb_test::at(0), 1s, 60s);
  CHECK_FALSE(c.claim_retry(0, lb_test::at(s - 1), 1s, 60s));  // backoff not over
  CHECK(c.claim_retry(0, lb_test::at(s), 1s, 60s));
  for (int k = 0; k < 5; ++k) CHECK_FALSE(c.claim_retry(0, lb_test::at(s + k), 1s, 60s));
  CHECK_FALSE(c.live(0, lb_test::at(s), true));  // to every other request it is down
  // The probe never told (it timed out short of a connect failure): one more a backoff later.
  CHECK(c.claim_retry(0, lb_test::at(3 * s), 1s, 60s));
  CHECK(c.restore(0));
  CHECK_FALSE(c.claim_retry(0, lb_test::at(10 * s), 1s, 60s));
}
