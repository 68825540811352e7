#include "lb_support.hpp"

#include <bb/lb/peak_ewma.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <queue>
#include <vector>

using lb_test::make_cluster;

namespace {
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t s = 1000 * ms;
}  // namespace

TEST_CASE("peak_ewma_balancer jumps to a peak at once and decays toward lower latencies", "[lb][peak-ewma]") {
  bb::peak_ewma_balancer b({1, 1},
                           {.decay = std::chrono::seconds(10), .default_latency = std::chrono::milliseconds(2)});
  CHECK(b.estimate_ns(0, lb_test::at(0)) == 2 * ms);  // never observed: the default, which does not fade
  CHECK(b.estimate_ns(0, lb_test::at(100 * s)) == 2 * ms);
  b.on_start(0);
  b.on_finish(0, lb_test::result(1 * ms, true, 1 * s));  // the first answer replaces the default
  CHECK(b.estimate_ns(0, lb_test::at(1 * s)) == 1 * ms);
  b.on_start(0);
  b.on_finish(0, lb_test::result(10 * ms, true, 2 * s));  // a peak: taken at once
  CHECK(b.estimate_ns(0, lb_test::at(2 * s)) == 10 * ms);
  b.on_start(0);
  b.on_finish(0, lb_test::result(1 * ms, true, 12 * s));  // one decay time later: e^-1 of the old, the rest new
  CHECK(b.estimate_ns(0, lb_test::at(12 * s)) == Approx(10 * ms * std::exp(-1.0) + 1 * ms * (1 - std::exp(-1.0))));
  // Without news the estimate a pick reads holds for a second, then fades toward zero, so a
  // shunned host gets probed again.
  CHECK(b.estimate_ns(0, lb_test::at(13 * s)) == b.estimate_ns(0, lb_test::at(12 * s)));
  CHECK(b.estimate_ns(0, lb_test::at(23 * s)) == Approx(b.estimate_ns(0, lb_test::at(12 * s)) * std::exp(-1.0)));
  CHECK(b.in_flight(0) == 0);
}

TEST_CASE("peak_ewma_balancer counts a failure as at least twice the estimate", "[lb][peak-ewma]") {
  bb::peak_ewma_balancer b({1});
  b.on_start(0);
  b.on_finish(0, lb_test::result(3 * ms, true, 0));
  b.on_start(0);
  b.on_finish(0, lb_test::result(100'000, false, 0));  // a fast failure
  CHECK(b.estimate_ns(0, lb_test::at(0)) == 6 * ms);
}

TEST_CASE("peak_ewma_balancer tries a host never observed as soon as it is drawn", "[lb][peak-ewma]") {
  auto c = make_cluster(2);
  bb::peak_ewma_balancer b({1, 1});
  bb::rng r(4);
  b.on_start(0), b.on_finish(0, lb_test::result(100'000, true, 0));  // host 0 answers in 0.1 ms, below the default
  CHECK(b.cost(1, lb_test::at(0)) == 0);
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 1);
  b.on_start(1);
  CHECK(b.cost(1, lb_test::at(0)) == 1 * ms);  // awaiting its first answer: the default per request in flight
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 0);
}

TEST_CASE("peak_ewma_balancer forgets what it learned about a host that went down once it is back", "[lb][peak-ewma]") {
  auto c = make_cluster(2);
  bb::peak_ewma_balancer b({1, 1});
  bb::rng r(5);
  b.on_start(0), b.on_finish(0, lb_test::result(1 * ms, true, 0));
  for (int k = 0; k < 5; ++k)
    b.on_start(1), b.on_finish(1, lb_test::result(2'000 * ms, false, 0));  // failing slowly: 64 s
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 0);
  c.set_up(1, false);  // taken down by a check ...
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 0);
  c.set_up(1, true);  // ... and brought back: a fresh start, not 64 s fading over minutes
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 1);
  CHECK(b.cost(1, lb_test::at(0)) == 0);
  // The same after a passive ejection and an answer.
  for (int k = 0; k < 5; ++k) b.on_start(1), b.on_finish(1, lb_test::result(2'000 * ms, false, 0));
  c.eject(1, lb_test::at(0), std::chrono::seconds(10), std::chrono::seconds(10));
  CHECK(c.restore(1));
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 1);
}

TEST_CASE("peak_ewma_balancer weighs latency by requests in flight", "[lb][peak-ewma]") {
  auto c = make_cluster(2);
  bb::peak_ewma_balancer b({1, 1});
  bb::rng r(9);
  b.on_start(0), b.on_finish(0, lb_test::result(10 * ms, true, 0));
  b.on_start(1), b.on_finish(1, lb_test::result(1 * ms, true, 0));
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 1);
  for (int k = 0; k < 10; ++k) b.on_start(1);  // 1 ms x 11 > 10 ms x 1
  CHECK(b.cost(1, lb_test::at(0)) == 11 * ms);
  CHECK(*b.pick(lb_test::ctx(c, r, 0, false, bb::tried_set(2))) == 0);
}

TEST_CASE("peak_ewma_balancer moves traffic off a host that turns 10x slower, and back when it recovers",
          "[lb][peak-ewma]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed " << seed);
  auto c = make_cluster(3);
  bb::peak_ewma_balancer b({1, 1, 1});
  bb::rng r(seed);
  struct done {
    std::int64_t at;
    std::size_t host;
    std::int64_t latency;
    bool operator>(const done& o) const { return at > o.at; }
  };
  std::priority_queue<done, std::vector<done>, std::greater<>> pending;
  // One request every 0.5 ms, service 0.8 to 1.2 ms; host 2 is 10x slower from
  // 10 s to 40 s. Shares are counted per 10 s window.
  std::vector<std::array<int, 3>> windows(10);
  for (std::int64_t now = 0; now < 100 * s; now += ms / 2) {
    while (!pending.empty() && pending.top().at <= now) {
      const auto d = pending.top();
      pending.pop();
      b.on_finish(d.host, lb_test::result(d.latency, true, d.at));
    }
    const auto i = *b.pick(lb_test::ctx(c, r, now, false, bb::tried_set(3)));
    b.on_start(i);
    const bool slow = i == 2 && now >= 10 * s && now < 40 * s;
    const auto latency = static_cast<std::int64_t>((0.8 + 0.4 * r.uniform01()) * (slow ? 10 : 1) * ms);
    pending.push({now + latency, i, latency});
    ++windows[static_cast<std::size_t>(now / (10 * s))][i];
  }
  auto share = [&](std::size_t w) { return windows[w][2] / 20'000.0; };
  CHECK(share(0) == Approx(1.0 / 3).margin(0.05));  // all equal
  CHECK(share(1) < 0.05);                           // slow: shunned within the first window
  CHECK(share(2) < 0.05);
  CHECK(share(3) < 0.05);
  CHECK(share(9) == Approx(1.0 / 3).margin(0.07));  // recovered: its share comes back
}

TEST_CASE("peak_ewma_balancer skips dead and tried hosts and says when none is left", "[lb][peak-ewma]") {
  auto c = make_cluster(3);
  bb::peak_ewma_balancer b({1, 1, 1});
  bb::rng r(5);
  b.on_start(2), b.on_finish(2, lb_test::result(500 * ms, true, 0));
  lb_test::kill(c, 0);
  bb::tried_set tried(3);
  tried.add(1);
  for (int k = 0; k < 20; ++k) CHECK(*b.pick(lb_test::ctx(c, r, 0, false, tried)) == 2);
  tried.add(2);
  CHECK_FALSE(b.pick(lb_test::ctx(c, r, 0, false, tried)));
}
