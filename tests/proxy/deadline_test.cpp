// The session's phase deadlines and the proxy's connection limit, on the simulated
// network and virtual clock: each timeout ends its phase at its deadline (within the
// sweep's 100 ms tick) and answers as session_phase documents (408, 504 or a close).

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/proxy.hpp>
#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim_rig.hpp"

using namespace std::chrono_literals;
namespace sim = bb::sim;
using proxy_test::connect;
using proxy_test::read_response;
using proxy_test::read_until_close;
using proxy_test::rig;
using proxy_test::send;
using proxy_test::slack;

TEST_CASE("session answers 408 and closes when a request head is not whole by the header timeout",
          "[proxy][session][timeout]") {
  rig setup(sim::behaviour::echo);
  setup.config.client_header_timeout = 2s;
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    const auto connected = r.now();
    co_await send(s, "GET /r/1/10 HTTP/1.1\r\nHo");
    const auto reply = co_await read_until_close(r, s);
    INFO(reply.bytes);
    CHECK(reply.bytes.starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    CHECK(reply.bytes.find("Connection: close\r\n") != std::string::npos);
    CHECK(reply.closed_at - connected >= 2s);
    CHECK(reply.closed_at - connected <= 2s + slack);
  });
  CHECK(setup.proxy->stats().timeouts.value() == 1);
  CHECK(setup.proxy->stats().responses[4].value() == 1);
  CHECK(setup.upstream.answered() == 0);
}

TEST_CASE("session closes a new connection that sends nothing at the header timeout, without a response",
          "[proxy][session][timeout]") {
  rig setup(sim::behaviour::echo);
  setup.config.client_header_timeout = 3s;
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    const auto connected = r.now();
    const auto reply = co_await read_until_close(r, s);
    CHECK(reply.bytes.empty());
    CHECK(reply.closed_at - connected >= 3s);
    CHECK(reply.closed_at - connected <= 3s + slack);
  });
  CHECK(setup.proxy->stats().timeouts.value() == 1);
}

TEST_CASE("session counts the first request's header timeout from the accept, a later one's from its first byte",
          "[proxy][session][timeout]") {
  rig setup(sim::behaviour::echo);
  setup.config.client_header_timeout = 2s;
  setup.config.client_idle_timeout = 60s;
  setup.run([](rig& r) -> bb::task<void> {
    // First request: 1.5 s of silence, then half a head; the 2 s are up 0.5 s later.
    auto s = co_await connect(r);
    const auto connected = r.now();
    co_await r.client_clock.sleep_for(1500ms);
    co_await send(s, "GET /r/1/10 HTTP/1.1\r\n");
    const auto reply = co_await read_until_close(r, s);
    CHECK(reply.bytes.starts_with("HTTP/1.1 408 "));
    CHECK(reply.closed_at - connected <= 2s + slack);

    // A later request on a kept connection: idle for 5 s, then 1.5 s for its head is fine.
    auto k = co_await connect(r);
    co_await send(k, sim::http_lite::make_request("GET", "/r/1/10", {}, false));
    sim::http_lite::reader rd;
    auto m = co_await read_response(k, rd);
    CHECK(m.status == 200);
    co_await r.client_clock.sleep_for(5s);
    co_await send(k, "GET /r/2/10 HTTP/1.1\r\n");
    co_await r.client_clock.sleep_for(1500ms);
    co_await send(k, "Host: sim\r\n\r\n");
    m = co_await read_response(k, rd);
    CHECK(m.status == 200);
  });
  CHECK(setup.upstream.answered() == 2);
}

TEST_CASE("session closes a keep-alive connection at the idle timeout without a response",
          "[proxy][session][timeout]") {
  rig setup(sim::behaviour::echo);
  setup.config.client_idle_timeout = 5s;
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    co_await send(s, sim::http_lite::make_request("GET", "/r/1/10", {}, false));
    sim::http_lite::reader rd;
    auto m = co_await read_response(s, rd);
    CHECK(m.status == 200);
    const auto answered = r.now();
    const auto reply = co_await read_until_close(r, s);
    CHECK(reply.bytes.empty());
    CHECK(reply.closed_at - answered >= 5s - 2ms);  // the idle phase began as the response left
    CHECK(reply.closed_at - answered <= 5s + slack);
  });
  CHECK(setup.proxy->stats().timeouts.value() == 1);
}

TEST_CASE("session answers 504 when an upstream sends no response head within the response timeout",
          "[proxy][session][timeout]") {
  rig setup(sim::behaviour::hang);
  setup.config.upstream_response_timeout = 4s;
  setup.config.body_idle_timeout = 60s;  // to show which deadline applies
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    const auto sent = r.now();
    co_await send(s, sim::http_lite::make_request("GET", "/r/1/10", {}, false));
    sim::http_lite::reader rd;
    auto m = co_await read_response(s, rd);
    CHECK(m.status == 504);
    // The request needs two hops to reach the upstream, the answer one to come back.
    CHECK(r.now() - sent >= 4s);
    CHECK(r.now() - sent <= 4s + slack + 4ms);
    // A GET without a body leaves the connection in step: it stays open for the next.
    CHECK_FALSE(m.close);
  });
  CHECK(setup.proxy->stats().responses[5].value() == 1);
}

TEST_CASE("session answers 408 when a request body stalls for the body idle timeout", "[proxy][session][timeout]") {
  rig setup(sim::behaviour::echo);
  setup.config.body_idle_timeout = 3s;
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    co_await send(s, "POST /upload HTTP/1.1\r\nHost: sim\r\nContent-Length: 10\r\n\r\nabc");
    co_await r.client_clock.sleep_for(2s);
    co_await send(s, "de");  // bytes moving: the deadline starts again
    const auto last = r.now();
    const auto reply = co_await read_until_close(r, s);
    INFO(reply.bytes);
    CHECK(reply.bytes.starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    CHECK(reply.closed_at - last >= 3s);
    CHECK(reply.closed_at - last <= 3s + slack + 2ms);
  });
  CHECK(setup.upstream.answered() == 0);
}

TEST_CASE("session answers 431 and 413 past the configured head and body limits", "[proxy][session][limit]") {
  rig setup(sim::behaviour::echo);
  setup.config.limits.max_headers = 3;
  setup.config.limits.max_body_bytes = 8;
  setup.run([](rig& r) -> bb::task<void> {
    auto a = co_await connect(r);
    co_await send(a, "GET / HTTP/1.1\r\nHost: sim\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
    const auto too_many = co_await read_until_close(r, a);
    CHECK(too_many.bytes.starts_with("HTTP/1.1 431 "));
    auto b = co_await connect(r);
    co_await send(b, sim::http_lite::make_request("POST", "/upload", "nine bytes", false));
    const auto too_large = co_await read_until_close(r, b);
    CHECK(too_large.bytes.starts_with("HTTP/1.1 413 "));
    auto c = co_await connect(r);
    co_await send(c, sim::http_lite::make_request("POST", "/upload", "8 bytes!", false));
    sim::http_lite::reader rd;
    auto m = co_await read_response(c, rd);
    CHECK(m.status == 200);
    CHECK(m.body == "8 bytes!");
  });
}

TEST_CASE("proxy closes a connection past max_connections at once and serves the others", "[proxy][limit]") {
  rig setup(sim::behaviour::echo);
  setup.config.max_connections = 2;
  setup.run([](rig& r) -> bb::task<void> {
    auto a = co_await connect(r);
    auto b = co_await connect(r);
    co_await r.client_clock.sleep_for(10ms);  // both accepted
    auto c = co_await connect(r);
    const auto connected = r.now();
    const auto refused = co_await read_until_close(r, c);
    CHECK(refused.bytes.empty());
    CHECK(refused.closed_at - connected <= 4ms);
    for (auto* s : {&a, &b}) {
      co_await send(*s, sim::http_lite::make_request("GET", "/r/1/10", {}, true));
      sim::http_lite::reader rd;
      auto m = co_await read_response(*s, rd);
      CHECK(m.status == 200);
    }
    // Once those two are gone, a new connection is served again.
    co_await r.client_clock.sleep_for(10ms);
    auto d = co_await connect(r);
    co_await send(d, sim::http_lite::make_request("GET", "/r/1/10", {}, true));
    sim::http_lite::reader rd;
    auto m = co_await read_response(d, rd);
    CHECK(m.status == 200);
  });
  CHECK(setup.proxy->stats().refused_connections.value() == 1);
  CHECK(setup.proxy->stats().connections.value() == 4);
}
