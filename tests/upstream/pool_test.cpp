// bb::connection_pool: reuse order, caps, expiry, epochs, and the watch that closes an idle
// connection the moment its upstream sends anything.

#include <bb/core/scope.hpp>
#include <bb/core/sync_wait.hpp>
#include <bb/upstream/pool.hpp>

#include "fake_stream.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <utility>
#include <vector>

using bb::test::fake_stream;
using bb::test::fake_wire;

namespace {

/// Fake connections, a run queue, and a pool over them that must be shut down.
struct pool_rig {
  bb::test::run_queue queue;
  std::deque<fake_wire> wires;
  bb::connection_pool<fake_stream> pool;
  std::vector<std::pair<std::size_t, bb::pool_discard>> discards;

  pool_rig(std::size_t upstreams, std::size_t max_idle) : pool(upstreams, max_idle) {
    pool.on_discard([this](std::size_t i, bb::pool_discard why) { discards.emplace_back(i, why); });
  }
  ~pool_rig() { shut(); }

  /// A new connection numbered `id`.
  fake_stream open(int id) {
    auto& w = wires.emplace_back();
    w.id = id;
    w.queue = &queue;
    return fake_stream(w);
  }
  fake_wire& wire(int id) {
    for (auto& w : wires)
      if (w.id == id) return w;
    FAIL("no wire " << id);
    throw;
  }
  /// Closes what is pooled and waits for every watch to end.
  void shut() {
    bb::scope driver;
    driver.spawn([](bb::connection_pool<fake_stream>& p) -> bb::task<void> { co_await p.shutdown(); }(pool));
    queue.run();
    REQUIRE(driver.active() == 0);
    bb::sync_wait([](bb::scope& s) -> bb::task<void> { co_await s.join(); }(driver));
  }
};

}  // namespace

TEST_CASE("connection_pool reuses the newest idle connection and caps idle ones", "[upstream][pool]") {
  pool_rig rig(2, 2);
  CHECK_FALSE(rig.pool.take(0));
  rig.pool.give_back(0, rig.open(1));
  rig.pool.give_back(0, rig.open(2));
  rig.pool.give_back(0, rig.open(3));  // over the cap: closed, not kept
  CHECK(rig.wire(3).closed);
  CHECK(rig.pool.counters(0).idle.value() == 2);
  CHECK_FALSE(rig.pool.take(1));
  auto s = rig.pool.take(0);
  REQUIRE(s);
  CHECK(s->id() == 2);
  CHECK(rig.pool.counters(0).idle.value() == 1);
  rig.queue.run();  // the taken connection's watch ends
  rig.pool.clear();
  CHECK(rig.pool.counters(0).idle.value() == 0);
  CHECK(rig.wire(1).closed);
  CHECK_FALSE(rig.wire(2).closed);  // taken out before clear: the taker owns it
  CHECK(rig.pool.counters(0).pooled.value() == 2);
  CHECK(rig.pool.counters(0).reused.value() == 1);
  CHECK(rig.pool.counters(0).expired.value() == 1);  // the one over the cap
}

TEST_CASE("connection_pool closes connections idle past the timeout, oldest first", "[upstream][pool]") {
  pool_rig rig(2, 4);
  using ns = std::chrono::nanoseconds;
  rig.pool.give_back(0, rig.open(1), ns(100));
  rig.pool.give_back(0, rig.open(2), ns(300));
  rig.pool.give_back(1, rig.open(3), ns(200));
  CHECK(rig.pool.expire(ns(399), ns(200)) == 1);  // 299 idle: the first only
  CHECK(rig.wire(1).closed);
  CHECK_FALSE(rig.wire(2).closed);
  CHECK(rig.pool.idle(0) == 1);
  CHECK(rig.pool.counters(0).idle.value() == 1);
  CHECK(rig.pool.expire(ns(500), ns(300)) == 1);  // upstream 1's, idle exactly 300
  CHECK(rig.wire(3).closed);
  CHECK(rig.pool.idle(1) == 0);
  CHECK(rig.pool.counters(1).idle.value() == 0);
  CHECK(rig.pool.expire(ns(500), ns(300)) == 0);
  auto s = rig.pool.take(0);
  REQUIRE(s);
  CHECK(s->id() == 2);
  rig.queue.run();
  CHECK(rig.discards.empty());  // expiry is not a discard
}

TEST_CASE("connection_pool never reuses a connection from before the host came back", "[upstream][pool]") {
  pool_rig rig(1, 4);
  rig.pool.give_back(0, rig.open(1), {}, 7);
  rig.pool.give_back(0, rig.open(2), {}, 7);
  CHECK_FALSE(rig.pool.take(0, 8));  // the host went down and came back since: both closed
  CHECK(rig.wire(1).closed);
  CHECK(rig.wire(2).closed);
  CHECK(rig.pool.idle(0) == 0);
  CHECK(rig.pool.counters(0).idle.value() == 0);
  rig.pool.give_back(0, rig.open(3), {}, 8);
  auto s = rig.pool.take(0, 8);
  REQUIRE(s);
  CHECK(s->id() == 3);
  CHECK_FALSE(rig.wire(3).closed);
  CHECK(rig.pool.counters(0).dropped.value() == 2);
}

TEST_CASE("connection_pool closes an idle connection that receives anything, and says what came", "[upstream][pool]") {
  struct row {
    const char* what;
    bool bytes, eof, reset;
    bb::pool_discard why;
  };
  const auto r = GENERATE(row{"a late body", true, false, false, bb::pool_discard::unsolicited_bytes},
                          row{"a late body and a close", true, true, false, bb::pool_discard::unsolicited_bytes},
                          row{"the upstream's close", false, true, false, bb::pool_discard::closed_by_upstream},
                          row{"a reset", false, false, true, bb::pool_discard::reset});
  INFO(r.what);
  pool_rig rig(2, 4);
  rig.pool.give_back(1, rig.open(1));
  rig.pool.give_back(1, rig.open(2));
  auto& w = rig.wire(2);  // the newest: the one take() would hand out
  if (r.bytes) w.deliver("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\npoisoned");
  if (r.eof) w.finish();
  if (r.reset) w.abort();
  rig.queue.run();
  CHECK(w.closed);
  CHECK(rig.pool.idle(1) == 1);
  CHECK(rig.pool.counters(1).idle.value() == 1);  // the watch that closed it lowered the gauge
  REQUIRE(rig.discards.size() == 1);
  CHECK(rig.discards[0].first == 1);
  CHECK(rig.discards[0].second == r.why);
  auto s = rig.pool.take(1);  // the other one, untouched
  REQUIRE(s);
  CHECK(s->id() == 1);
  CHECK_FALSE(rig.wire(1).closed);
  const auto& c = rig.pool.counters(1);
  CHECK(c.unsolicited.value() == (r.why == bb::pool_discard::unsolicited_bytes ? 1u : 0u));
  CHECK(c.closed_by_upstream.value() == (r.why == bb::pool_discard::unsolicited_bytes ? 0u : 1u));
}

TEST_CASE("connection_pool never hands out a connection whose input arrived before its watch ran", "[upstream][pool]") {
  pool_rig rig(1, 4);
  rig.pool.give_back(0, rig.open(1));
  rig.pool.give_back(0, rig.open(2));
  rig.wire(2).deliver("garbage");  // the watch's wake-up is posted, not run yet
  auto s = rig.pool.take(0);
  REQUIRE(s);
  CHECK(s->id() == 1);
  CHECK(rig.wire(2).closed);
  REQUIRE(rig.discards.size() == 1);
  CHECK(rig.discards[0].second == bb::pool_discard::unsolicited_bytes);
  rig.queue.run();
  CHECK(rig.discards.size() == 1);  // counted once
}

TEST_CASE("connection_pool's watch lets go of a connection once it is taken", "[upstream][pool]") {
  pool_rig rig(1, 4);
  rig.pool.give_back(0, rig.open(1));
  auto s = rig.pool.take(0);
  REQUIRE(s);
  rig.queue.run();  // the cancelled watch ends
  // What comes now is the answer to the taker's request, not the pool's business.
  rig.wire(1).deliver("HTTP/1.1 200 OK\r\n\r\n");
  rig.queue.run();
  CHECK(rig.discards.empty());
  CHECK_FALSE(rig.wire(1).closed);
  std::array<char, 64> buf{};
  auto read = [](fake_stream& st, std::span<char> b) -> bb::task<bb::io_result> { co_return co_await st.read_some(b); };
  const auto got = bb::sync_wait(read(*s, buf));
  CHECK_FALSE(got.ec);
  CHECK(got.bytes == 19);
}

TEST_CASE("connection_pool shutdown reaches a connection whose wake-up is still pending", "[upstream][pool]") {
  pool_rig rig(1, 4);
  rig.pool.give_back(0, rig.open(1));
  // An end arrives; the watch wakes, then clear() comes before the watch runs.
  rig.wire(1).finish();
  rig.pool.clear();
  rig.queue.run();
  CHECK(rig.wire(1).closed);
  CHECK(rig.pool.idle(0) == 0);
}
