#include <bb/core/scope.hpp>
#include <catch2/catch.hpp>
#include <sim/http_lite.hpp>
#include <sim/run.hpp>
#include <sim/scenarios.hpp>
#include <sim/upstream.hpp>
#include <sim/world.hpp>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace sim = bb::sim;
namespace http_lite = sim::http_lite;

namespace {

sim::scenario with_upstreams(sim::behaviour b, std::initializer_list<sim::outcome> allowed) {
  auto sc = sim::make_scenario("steady", 5, 5s);
  for (auto& u : sc.upstreams) u.kind = b;
  sc.allowed = allowed;
  return sc;
}

std::uint64_t count(const sim::report& r, sim::outcome o) { return r.by_outcome[static_cast<int>(o)]; }

}  // namespace

TEST_CASE("clients reach echo upstreams directly when no proxy stands between", "[sim][upstream]") {
  auto sc = sim::make_scenario("steady", 3, 5s);
  sc.through_proxy = false;
  const auto r = sim::world(sc).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::ok) == r.requests);
}

TEST_CASE("a slow upstream still answers every request intact", "[sim][upstream]") {
  const auto r = sim::world(with_upstreams(sim::behaviour::slow, {sim::outcome::ok})).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::ok) == r.requests);
}

TEST_CASE("an always_500 upstream's answers reach the client as 5xx", "[sim][upstream]") {
  const auto r = sim::world(with_upstreams(sim::behaviour::always_500, {sim::outcome::server_error})).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::server_error) == r.requests);
}

TEST_CASE("a hanging upstream ends in the proxy's timeout, not in a stuck run", "[sim][upstream]") {
  auto sc = with_upstreams(sim::behaviour::hang,
                           {sim::outcome::server_error, sim::outcome::timeout, sim::outcome::conn_error});
  const auto r = sim::world(sc).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(r.requests > 0);
  CHECK(count(r, sim::outcome::ok) == 0);
}

TEST_CASE("a half response then close never passes for a complete one", "[sim][upstream]") {
  auto sc = with_upstreams(sim::behaviour::half_then_close, {sim::outcome::server_error, sim::outcome::conn_error});
  const auto r = sim::world(sc).run();
  INFO(r.first_violation);
  CHECK(r.violations == 0);
  CHECK(count(r, sim::outcome::ok) == 0);
}

TEST_CASE("a disallowed outcome is reported as the first violation with its time", "[sim][invariants]") {
  const auto r = sim::world(with_upstreams(sim::behaviour::always_500, {sim::outcome::ok})).run();
  CHECK(r.violations > 0);
  CHECK(r.first_violation.find("disallowed_outcome") == 0);
  CHECK(r.first_violation_at > sim::duration{0});
}

TEST_CASE("payload_checksum is the checksum of the payload it stands for", "[sim][http_lite]") {
  for (std::size_t size : {0, 1, 7, 8, 9, 63, 64, 65, 511})
    for (std::uint64_t id : {1, 2, 1000003})
      CHECK(sim::http_lite::payload_checksum(id, size) == sim::checksum(sim::http_lite::payload(id, size)));
}

namespace {

/// Keeps every write an upstream logs.
struct recorder final : sim::upstream_log {
  std::vector<std::pair<std::size_t, sim::piece>> writes;
  void record(std::uint64_t, std::size_t bytes, const sim::piece& p) override { writes.emplace_back(bytes, p); }
};

/// One misbehaving upstream and a client host on a network; the log of its writes.
struct upstream_fixture {
  sim::executor ex;
  sim::trace tr;
  sim::network net{ex, tr, 42};
  sim::host& ch = net.add_host("client", bb::ip_address::v4(10, 1, 0, 1), 1ms, 1ms);
  sim::host& uh = net.add_host("up1", bb::ip_address::v4(10, 0, 1, 1), 1ms, 1ms);
  sim::transport t{net, ch};
  recorder rec;
  std::vector<std::pair<std::size_t, sim::piece>>& log = rec.writes;
  std::unique_ptr<sim::upstream_server> up;

  explicit upstream_fixture(sim::misbehaviour::kind k) {
    sim::upstream_spec spec{"up1", sim::behaviour::echo};
    spec.unsolicited = {static_cast<std::uint8_t>(1u << static_cast<int>(k)), 1.0, 10ms};
    up = std::make_unique<sim::upstream_server>(net, uh, 8080, spec, bb::rng(3));
    up->set_log(&rec);
  }

  /// Sends `request` and reads an answer (as to HEAD when `head`) and everything after it
  /// until the upstream closes or 100 ms pass.
  bb::task<std::pair<http_lite::message, std::string>> exchange(std::string request, bool head) {
    bb::scope s;
    s.spawn(up->serve());
    auto c = co_await t.connect(up->address());
    REQUIRE(c);
    const bb::const_buffer out[] = {{request.data(), request.size()}};
    co_await c->write(out);
    http_lite::reader rd;
    http_lite::message m;
    const auto ec = co_await rd.read(*c, http_lite::reader::framing{true, head}, m);
    REQUIRE_FALSE(ec);
    sim::virtual_clock clock(ex, ch);
    co_await clock.sleep_for(100ms);
    std::string after;
    while (c->pending_input()) {
      char buf[512];
      const auto r = co_await c->read_some(buf);
      if (r.ec) break;
      after.append(buf, r.bytes);
    }
    c->close();
    up->stop();
    co_await s.join();
    co_return std::pair{m, after};
  }
};

}  // namespace

TEST_CASE("a poisoning upstream follows its answer with a second response naming the same request",
          "[sim][upstream][unsolicited]") {
  upstream_fixture f(sim::misbehaviour::kind::poisoned);
  const auto [m, after] = sim::run(f.ex, f.exchange(http_lite::make_request("GET", "/r/5/9", "", false), false));
  CHECK(m.answers == 5);
  CHECK(m.body == http_lite::payload(5, 9));
  CHECK(after == http_lite::make_response(200, "poisoned", false, 5));
  REQUIRE(f.log.size() == 2);
  CHECK(f.log[0].second.is == sim::piece::what::answer);
  CHECK(f.log[1].second.is == sim::piece::what::poisoned);
  CHECK(f.log[1].first == after.size());
}

TEST_CASE("an upstream with a late body answers HEAD bodiless, then writes the body it announced",
          "[sim][upstream][unsolicited]") {
  upstream_fixture f(sim::misbehaviour::kind::late_body);
  const auto [m, after] = sim::run(f.ex, f.exchange(http_lite::make_request("HEAD", "/r/6/40", "", false), true));
  CHECK(m.status == 200);
  CHECK(m.answers == 6);
  CHECK(after.size() == m.content_length);
  REQUIRE(f.log.size() == 2);
  CHECK(f.log[1].second.is == sim::piece::what::late_body);
  CHECK(f.log[1].second.names == (after.starts_with("HTTP/") ? 6u : 0u));
}

TEST_CASE("an upstream that answers early refuses a POST on its head, then closes", "[sim][upstream][unsolicited]") {
  upstream_fixture f(sim::misbehaviour::kind::early_answer);
  // The head alone: the body never comes, and the answer does not wait for it.
  const auto [m, after] =
      sim::run(f.ex, f.exchange("POST /r/7 HTTP/1.1\r\nHost: sim\r\nContent-Length: 100\r\n\r\n", false));
  CHECK(m.status == 413);
  CHECK(m.answers == 7);
  CHECK(m.close);
  CHECK(after.empty());
  REQUIRE(f.log.size() == 1);
  CHECK(f.log[0].second.is == sim::piece::what::early_answer);
}
