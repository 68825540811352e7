#include "lb_support.hpp"

#include <bb/lb/round_robin.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using lb_test::make_cluster;

namespace {
std::string sequence(const bb::round_robin_balancer& b, const bb::cluster& c, int n, const bb::tried_set& tried) {
  std::string s;
  for (int k = 0; k < n; ++k) s += static_cast<char>('a' + *b.pick(lb_test::ctx(c, 0, false, tried)));
  return s;
}
}  // namespace

TEST_CASE("round_robin_balancer follows nginx's smooth sequence for weights {5,1,1}", "[lb][round-robin]") {
  auto c = make_cluster(3);
  bb::round_robin_balancer b({5, 1, 1});
  CHECK(sequence(b, c, 14, bb::tried_set(3)) == "aabacaaaabacaa");
}

TEST_CASE("round_robin_balancer takes equal weights in turn and reduces weights by their gcd", "[lb][round-robin]") {
  auto c = make_cluster(3);
  CHECK(sequence(bb::round_robin_balancer({1, 1, 1}), c, 6, bb::tried_set(3)) == "abcabc");
  CHECK(bb::round_robin_balancer({10, 2, 2}).schedule() == bb::round_robin_balancer({5, 1, 1}).schedule());
  CHECK(sequence(bb::round_robin_balancer({4, 2, 1}), c, 7, bb::tried_set(3)) == "abacaba");
}

TEST_CASE("round_robin_balancer shares by weight among the live hosts when one is dead", "[lb][round-robin]") {
  auto c = make_cluster(3);
  lb_test::kill(c, 0);
  bb::round_robin_balancer b({1, 3, 2});
  int counts[3] = {};
  for (int k = 0; k < 600; ++k) ++counts[*b.pick(lb_test::ctx(c, 0, false, bb::tried_set(3)))];
  CHECK(counts[0] == 0);
  CHECK(counts[1] == 360);
  CHECK(counts[2] == 240);
}

TEST_CASE("round_robin_balancer skips dead and tried hosts and says when none is left", "[lb][round-robin]") {
  auto c = make_cluster(3);
  bb::round_robin_balancer b({5, 1, 1});
  lb_test::kill(c, 1);
  bb::tried_set tried(3);
  tried.add(0);
  for (int k = 0; k < 20; ++k) CHECK(*b.pick(lb_test::ctx(c, 0, false, tried)) == 2);
  tried.add(2);
  CHECK_FALSE(b.pick(lb_test::ctx(c, 0, false, tried)));
}

TEST_CASE("round_robin_balancer refuses a zero weight and an empty host list", "[lb][round-robin]") {
  CHECK_THROWS_AS(bb::round_robin_balancer({1, 0}), std::invalid_argument);
  CHECK_THROWS_AS(bb::round_robin_balancer({}), std::invalid_argument);
  CHECK_THROWS_AS(bb::round_robin_balancer({1u << 17, 1}), std::invalid_argument);
}
