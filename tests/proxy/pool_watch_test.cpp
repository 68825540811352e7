// The proxy's pool of upstream connections, watched while idle, on the simulated network:
// an upstream that writes after its answer gets its connection closed, counted, and never
// reused; a connection that stays quiet is reused.

#include <bb/core/task.hpp>
#include <catch2/catch.hpp>

#include "sim_rig.hpp"

using namespace std::chrono_literals;
namespace sim = bb::sim;
using proxy_test::connect;
using proxy_test::read_response;
using proxy_test::rig;
using proxy_test::send;

TEST_CASE("proxy closes, counts and never reuses a pooled connection its upstream wrote on", "[proxy][pool]") {
  rig setup(sim::behaviour::echo);
  sim::misbehaviour m;
  m.kinds = 1u << static_cast<int>(sim::misbehaviour::kind::poisoned);
  m.rate = 1;  // after every answer: a second response, at once
  setup.upstream.misbehave(m);
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    sim::http_lite::reader rd;
    co_await send(s, sim::http_lite::make_request("GET", "/r/1/10", {}, false));
    auto first = co_await read_response(s, rd);
    CHECK(first.status == 200);
    co_await r.client_clock.sleep_for(50ms);  // the poisoned bytes reach the idle connection
    const auto& c = r.proxy->pool_stats(0);
    CHECK(c.pooled.value() == 1);
    CHECK(c.unsolicited.value() == 1);
    CHECK(c.reused.value() == 0);
    co_await send(s, sim::http_lite::make_request("GET", "/r/2/10", {}, false));
    auto second = co_await read_response(s, rd);
    CHECK(second.status == 200);
    CHECK(r.proxy->pool_stats(0).reused.value() == 0);  // a new connection answered it
  });
}

TEST_CASE("proxy reuses a pooled connection that stayed quiet", "[proxy][pool]") {
  rig setup(sim::behaviour::echo);
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    sim::http_lite::reader rd;
    for (int i = 1; i <= 3; ++i) {
      co_await send(s, sim::http_lite::make_request("GET", "/r/" + std::to_string(i) + "/10", {}, false));
      auto m = co_await read_response(s, rd);
      CHECK(m.status == 200);
      co_await r.client_clock.sleep_for(20ms);
    }
    const auto& c = r.proxy->pool_stats(0);
    CHECK(c.pooled.value() == 3);
    CHECK(c.reused.value() == 2);
    CHECK(c.unsolicited.value() == 0);
    CHECK(c.closed_by_upstream.value() == 0);
  });
}
