#include <bb/lb/weighted_random.hpp>
#include <bb/upstream/cluster.hpp>

#include "lb_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using lb_test::make_cluster;
using namespace std::chrono_literals;

TEST_CASE("random balancing with equal weights spreads picks evenly over live hosts", "[lb][random]") {
  auto c = make_cluster(3);
  bb::rng r(42);
  bb::tried_set none(3);
  int counts[3] = {};
  for (int i = 0; i < 3000; ++i)
    ++counts[*bb::weighted_random_balancer({1, 1, 1}).pick(lb_test::ctx(c, r, 0, false, none))];
  for (int n : counts) CHECK(n == Approx(1000).margin(150));
}

TEST_CASE("random balancing skips dead and tried hosts and says when none is left", "[lb][random]") {
  auto c = make_cluster(3);
  bb::rng r(1);
  c.eject(1, lb_test::at(0), 10s, 300s);
  bb::tried_set tried(3);
  tried.add(0);
  for (int i = 0; i < 50; ++i)
    CHECK(*bb::weighted_random_balancer({1, 1, 1}).pick(lb_test::ctx(c, r, 0, false, tried)) == 2);
  tried.add(2);
  CHECK_FALSE(bb::weighted_random_balancer({1, 1, 1}).pick(lb_test::ctx(c, r, 0, false, tried)));
}
