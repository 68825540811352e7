#include "lb_support.hpp"

#include <bb/lb/least_requests.hpp>

#include <catch2/catch.hpp>

#include <vector>

using lb_test::make_cluster;

namespace {
void load(bb::least_requests_balancer& b, std::size_t host, int n) {
  for (int k = 0; k < n; ++k) b.on_start(host);
}
}  // namespace

TEST_CASE("least_requests_balancer picks the host with the fewest in flight", "[lb][least-requests]") {
  auto c = make_cluster(4);
  bb::least_requests_balancer b({1, 1, 1, 1});
  load(b, 0, 3), load(b, 1, 1), load(b, 2, 2), load(b, 3, 4);
  bb::rng r(7);
  for (int k = 0; k < 50; ++k) CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(4))) == 1);
  b.on_finish(0, lb_test::result(0, true, 0)), b.on_finish(0, lb_test::result(0, true, 0)),
      b.on_finish(0, lb_test::result(0, true, 0));
  CHECK(b.in_flight(0) == 0);
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(4))) == 0);
}

TEST_CASE("least_requests_balancer divides in-flight counts by weight", "[lb][least-requests]") {
  auto c = make_cluster(2);
  bb::least_requests_balancer b({2, 1});
  bb::rng r(1);
  load(b, 0, 3), load(b, 1, 2);  // 1.5 per weight against 2
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 0);
  load(b, 0, 2);  // 2.5 against 2
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 1);
}

TEST_CASE("least_requests_balancer breaks ties at random in proportion to weight", "[lb][least-requests]") {
  auto c = make_cluster(3);
  bb::rng r(2024);
  bb::least_requests_balancer even({1, 1, 1});
  std::vector<std::size_t> first;
  for (int k = 0; k < 8; ++k) first.push_back(*even.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(3))));
  CHECK(first == std::vector<std::size_t>{1, 2, 2, 2, 2, 0, 0, 2});  // pinned for seed 2024
  bb::least_requests_balancer weighted({3, 1, 1});
  int counts[3] = {};
  for (int k = 0; k < 5000; ++k) ++counts[*weighted.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(3)))];
  CHECK(counts[0] == Approx(3000).margin(150));
  CHECK(counts[1] == Approx(1000).margin(100));
  CHECK(counts[2] == Approx(1000).margin(100));
}

TEST_CASE("least_requests_balancer keeps in-flight counts level", "[lb][least-requests]") {
  auto c = make_cluster(5);
  bb::least_requests_balancer b({1, 1, 1, 1, 1});
  bb::rng r(3);
  for (int k = 0; k < 1000; ++k) {
    b.on_start(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(5))));
    if (r.chance(0.4)) {
      const auto h = static_cast<std::size_t>(r.below(5));
      if (b.in_flight(h) > 0) b.on_finish(h, lb_test::result(0, true, 0));
    }
    std::int64_t lo = b.in_flight(0), hi = lo;
    for (std::size_t i = 1; i < 5; ++i) lo = std::min(lo, b.in_flight(i)), hi = std::max(hi, b.in_flight(i));
    REQUIRE(hi - lo <= 2);  // picks keep them within one; a finish may open one more
  }
}

TEST_CASE("least_requests_balancer skips dead and tried hosts and says when none is left", "[lb][least-requests]") {
  auto c = make_cluster(3);
  bb::least_requests_balancer b({1, 1, 1});
  bb::rng r(5);
  load(b, 2, 10);
  lb_test::kill(c, 0);
  bb::tried_set tried(3);
  tried.add(1);
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, tried)) == 2);
  tried.add(2);
  CHECK_FALSE(b.pick(lb_test::ctx(c, r, 0, false, tried)));
}
