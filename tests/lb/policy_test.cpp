#include "lb_support.hpp"

#include <bb/lb/policy.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using lb_test::client;
using lb_test::make_cluster;

TEST_CASE("parse_balance_policy reads the command-line names and refuses others", "[lb][policy]") {
  const auto p =
      GENERATE(bb::balance_policy::random, bb::balance_policy::round_robin, bb::balance_policy::least_requests,
               bb::balance_policy::p2c, bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma);
  CHECK(bb::parse_balance_policy(bb::to_string(p)) == p);
  CHECK(bb::parse_balance_policy("round-robin") == bb::balance_policy::round_robin);
  CHECK_FALSE(bb::parse_balance_policy("round_robin"));
  CHECK_FALSE(bb::parse_balance_policy(""));
  CHECK_FALSE(bb::parse_balance_policy("Random"));
}

TEST_CASE("balancer with random and equal weights draws one uniform number per pick", "[lb][policy]") {
  // The original balancebeam's policy: with every host live, host = below(n), so a seeded
  // run draws the same hosts it always did.
  auto c = make_cluster(5);
  bb::balancer b(bb::balance_policy::random, {1, 1, 1, 1, 1});
  bb::rng r1(99), r2(99);
  for (int k = 0; k < 200; ++k)
    REQUIRE(*b.pick(lb_test::ctx(c, r1, 0, false, bb::tried_set(5), client(0))) == r2.below(5));
}

TEST_CASE("balancer shares an idle cluster by weight under every policy", "[lb][policy]") {
  const auto p =
      GENERATE(bb::balance_policy::random, bb::balance_policy::round_robin, bb::balance_policy::least_requests,
               bb::balance_policy::p2c, bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma);
  INFO(bb::to_string(p));
  auto c = make_cluster(3);
  bb::balancer b(p, {3, 1, 2});
  bb::rng r(2024);
  int counts[3] = {};
  for (std::uint32_t k = 0; k < 6000; ++k) {
    const auto now = static_cast<std::int64_t>(k) * 1'000'000;
    const auto i = *b.pick(lb_test::ctx(c, r, now, false, bb::tried_set(3), client(k)));
    b.on_start(i);
    b.on_finish(i, lb_test::result(1'000'000, true, now));
    ++counts[i];
  }
  CHECK(counts[0] == Approx(3000).margin(300));
  CHECK(counts[1] == Approx(1000).margin(300));
  CHECK(counts[2] == Approx(2000).margin(300));
}

TEST_CASE("balancer skips dead and tried hosts and says when none is left under every policy", "[lb][policy]") {
  const auto p =
      GENERATE(bb::balance_policy::random, bb::balance_policy::round_robin, bb::balance_policy::least_requests,
               bb::balance_policy::p2c, bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma);
  INFO(bb::to_string(p));
  auto c = make_cluster(4);
  bb::balancer b(p, {1, 2, 1, 1});
  CHECK(b.policy() == p);
  bb::rng r(17);
  lb_test::kill(c, 0);
  lb_test::kill(c, 3);
  bb::tried_set tried(4);
  tried.add(1);
  for (std::uint32_t k = 0; k < 50; ++k) REQUIRE(*b.pick(lb_test::ctx(c, r, 0, false, tried, client(k))) == 2);
  tried.add(2);
  CHECK_FALSE(b.pick(lb_test::ctx(c, r, 0, false, tried, client(1))));
  // A dead host whose passive backoff ran out is live again for a passive retry.
  bb::tried_set only0(4);
  for (std::size_t i = 1; i < 4; ++i) only0.add(i);
  CHECK(*b.pick(lb_test::ctx(c, r, 301'000'000'000, true, only0, client(1))) == 0);
}

TEST_CASE("balancer refuses a bad configuration at construction", "[lb][policy]") {
  const auto p =
      GENERATE(bb::balance_policy::random, bb::balance_policy::round_robin, bb::balance_policy::least_requests,
               bb::balance_policy::p2c, bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma);
  CHECK_THROWS_AS(bb::balancer(p, {}), std::invalid_argument);
  CHECK_THROWS_AS(bb::balancer(p, {1, 0}), std::invalid_argument);
}

TEST_CASE("balancer is shared by worker threads without losing in-flight counts", "[lb][policy]") {
  const auto p = GENERATE(bb::balance_policy::round_robin, bb::balance_policy::least_requests, bb::balance_policy::p2c,
                          bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma);
  INFO(bb::to_string(p));
  const auto c = make_cluster(4);
  bb::balancer b(p, {1, 2, 1, 1});
  std::vector<std::thread> workers;
  std::atomic<int> picked{0};
  for (std::uint64_t t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      bb::rng r(t);
      for (std::uint32_t k = 0; k < 20'000; ++k) {
        const auto now = static_cast<std::int64_t>(k) * 10'000;
        const auto i = b.pick(lb_test::ctx(c, r, now, false, bb::tried_set(4), client(k)));
        if (!i) continue;
        b.on_start(*i);
        b.on_finish(*i, lb_test::result(50'000 + static_cast<std::int64_t>(r.below(100'000)), r.chance(0.99), now));
        picked.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(picked == 80'000);
  for (std::size_t i = 0; i < 4; ++i) CHECK(b.in_flight(i) == 0);  // every start was finished
}
