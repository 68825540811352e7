#include "lb_support.hpp"

#include <bb/lb/p2c.hpp>

#include <catch2/catch.hpp>

#include <vector>

using lb_test::make_cluster;

TEST_CASE("p2c_balancer never picks the worse of its two candidates", "[lb][p2c]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed " << seed);
  auto c = make_cluster(6);
  bb::p2c_balancer b({1, 2, 1, 3, 1, 1});
  bb::rng r(seed);
  for (int k = 0; k < 2000; ++k) {
    bb::rng replay = r;  // the same draws the pick is about to make
    const auto [x, y] = bb::detail::pick_two(lb_test::ctx(c, replay, 0, false, bb::tried_set(6)),
                                             bb::detail::weight_table({1, 2, 1, 3, 1, 1}));
    const auto got = *b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(6)));
    REQUIRE((got == *x || got == *y));
    const auto other = got == *x ? *y : *x;
    const std::uint32_t w[] = {1, 2, 1, 3, 1, 1};
    REQUIRE_FALSE(bb::detail::lighter(b.in_flight(other), w[other], b.in_flight(got), w[got]));
    b.on_start(got);
    if (r.chance(0.45)) {
      const auto h = static_cast<std::size_t>(r.below(6));
      if (b.in_flight(h) > 0) b.on_finish(h, lb_test::result(0, true, 0));
    }
  }
}

TEST_CASE("p2c_balancer sends nothing to the busiest host and most to the idlest", "[lb][p2c]") {
  auto c = make_cluster(3);
  bb::p2c_balancer b({1, 1, 1});
  for (int k = 0; k < 5; ++k) b.on_start(1);
  for (int k = 0; k < 10; ++k) b.on_start(2);
  bb::rng r(11);
  int counts[3] = {};
  for (int k = 0; k < 3000; ++k) ++counts[*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(3)))];
  CHECK(counts[2] == 0);
  CHECK(counts[0] == Approx(2000).margin(100));  // in every pair it is drawn into: 2 of 3
  CHECK(counts[1] == Approx(1000).margin(100));
}

TEST_CASE("p2c_balancer pins its choices for a seed and shares an idle cluster by weight", "[lb][p2c]") {
  auto c = make_cluster(3);
  bb::rng r(2024);
  bb::p2c_balancer even({1, 1, 1});
  std::vector<std::size_t> first;
  for (int k = 0; k < 8; ++k) first.push_back(*even.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(3))));
  CHECK(first == std::vector<std::size_t>{0, 0, 2, 1, 1, 2, 2, 2});  // pinned for seed 2024
  bb::p2c_balancer weighted({3, 1});
  auto c2 = make_cluster(2);
  int counts[2] = {};
  for (int k = 0; k < 4000; ++k) ++counts[*weighted.pick(lb_test::ctx(c2, r, 0, false, bb::tried_set(2)))];
  CHECK(counts[0] == Approx(3000).margin(150));
}

TEST_CASE("p2c_balancer skips dead and tried hosts and says when none is left", "[lb][p2c]") {
  auto c = make_cluster(4);
  bb::p2c_balancer b({1, 1, 1, 1});
  bb::rng r(5);
  for (int k = 0; k < 9; ++k) b.on_start(3);
  lb_test::kill(c, 0);
  bb::tried_set tried(4);
  tried.add(1);
  for (int k = 0; k < 30; ++k) CHECK(*b.pick(lb_test::ctx(c, r, 0, false, tried)) == 2);
  tried.add(2);
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, tried)) == 3);  // the only one left, however busy
  tried.add(3);
  CHECK_FALSE(b.pick(lb_test::ctx(c, r, 0, false, tried)));
}
