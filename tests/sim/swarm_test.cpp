// Swarm runs (sim/swarm.hpp) over many seeds, and the new invariants shown able to fail:
// each watch is fed a hand-made sequence of events that breaks it.

#include <algorithm>
#include <catch2/catch.hpp>
#include <iterator>
#include <map>
#include <sim/check_watch.hpp>
#include <sim/event_decoder.hpp>
#include <sim/events.hpp>
#include <sim/swarm.hpp>
#include <sim/swarm_watch.hpp>
#include <sim/world.hpp>
#include <string>
#include <vector>
#include "sanitized.hpp"

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

constexpr std::uint64_t swarm_seeds = sim::testing::seeds(200, 20);

/// A swarm watch over three hosts with its scenario, cluster and a log of what broke.
struct rig {
  explicit rig(bool passive) {
    sc = sim::make_swarm_scenario(1);
    sc.upstreams.resize(3);
    for (std::size_t i = 0; i < 3; ++i) {
      sc.upstreams[i].name = "up" + std::to_string(i + 1);
      sc.upstreams[i].weight = 1;
      configs.push_back({sc.upstreams[i].name, endpoint(i), 1});
    }
    sc.health_interval_s = passive ? 0 : 1;
    sc.clients.rate = 100;
    sc.swarm->response_timeout = 1s;
    sc.swarm->passive_backoff = 1s;
    sc.swarm->connect_timeout = 1s;
    hosts.emplace(configs);
    tr.set_sink([this](const sim::record& r) {
      if (r.kind == sim::ev::violation) broke.push_back(static_cast<sim::broken>(r.x));
    });
    watch.emplace(ex, inv, sc, *hosts);
  }
  static bb::endpoint endpoint(std::size_t i) {
    return bb::endpoint{bb::ip_address::v4(10, 0, 1, static_cast<std::uint8_t>(i + 1)), 8080};
  }

  /// The proxy writes the head of request `id` (`method`) to host `i` on connection `conn`.
  void head(std::uint64_t conn, std::size_t i, std::uint64_t id, std::string method = "GET") {
    watch->request_sent({conn, i, id, method, heads[conn]++, false});
  }
  /// The proxy starts a connect to host `i`.
  void connect(std::size_t i) { watch->connect_started(i, false); }
  /// That connect opened connection `conn` to host `i`.
  void opened(std::uint64_t conn, std::size_t i) { watch->connection_opened(conn, i, false); }
  void advance(sim::duration d) {
    ex.at(ex.now() + d, sim::event{[](void*, std::uint64_t) {}, nullptr, 0});
    ex.run();
  }
  bool broken(sim::broken b) const { return std::find(broke.begin(), broke.end(), b) != broke.end(); }

  sim::executor ex;
  sim::trace tr;
  sim::invariants inv{ex, tr};
  sim::scenario sc;
  std::vector<bb::upstream_config> configs;
  std::optional<bb::cluster> hosts;
  std::optional<sim::swarm_watch> watch;
  std::vector<sim::broken> broke;
  std::map<std::uint64_t, std::uint64_t> heads;  // request heads written per connection
};

}  // namespace

TEST_CASE("swarm runs hold every invariant over their seeds", "[sim][swarm]") {
  std::uint64_t requests = 0, faults = 0;
  for (std::uint64_t seed = 1; seed <= swarm_seeds; ++seed) {
    sim::world w(sim::make_swarm_scenario(seed));
    const auto r = w.run();
    INFO("replay: build/bin/sim --swarm --seed " << seed);
    INFO("first violation: " << r.first_violation);
    CHECK(r.violations == 0);
    CHECK(r.requests > 0);
    requests += r.requests;
    faults += w.spec().faults.size();
  }
  CHECK(requests > swarm_seeds * 1000);
  CHECK(faults > swarm_seeds * 2);
}

TEST_CASE("swarm draws differ by seed and replay by seed", "[sim][swarm]") {
  const auto a = sim::make_swarm_scenario(5), b = sim::make_swarm_scenario(5), c = sim::make_swarm_scenario(6);
  CHECK(a.parameters() == b.parameters());
  CHECK(a.parameters() != c.parameters());
  sim::world x(a), y(b);
  CHECK(x.run().trace_hash == y.run().trace_hash);
}

TEST_CASE("swarm watch reports a request sent back to a host it failed on", "[sim][swarm]") {
  rig r(false);
  const auto id = r.inv.issue(1, 0);
  r.head(1, 0, id);
  r.head(2, 1, id);
  CHECK(r.broke.empty());
  r.head(3, 0, id);  // back to up1, and not a fresh retry after a pooled connection
  CHECK(r.broken(sim::broken::same_host_retry));
}

TEST_CASE("swarm watch lets a request retry once on a fresh connection after a stale pooled one", "[sim][swarm]") {
  rig r(false);
  r.head(1, 0, r.inv.issue(1, 0));  // connection 1 carried a request before: pooled
  const auto id = r.inv.issue(1, 0);
  r.head(1, 0, id);
  r.head(2, 0, id);  // the pool's staleness: once, on a new connection
  CHECK(r.broke.empty());
  r.head(3, 0, id);
  CHECK(r.broken(sim::broken::same_host_retry));
}

TEST_CASE("swarm watch reports more attempts than the budget", "[sim][swarm]") {
  rig r(false);
  const auto id = r.inv.issue(1, 0);
  for (std::uint64_t k = 0; k < 5; ++k) r.head(10 + k, k % 3, id);
  CHECK(r.broken(sim::broken::retry_storm));
}

TEST_CASE("swarm watch reports a POST whose bytes reach a second upstream", "[sim][swarm]") {
  rig r(false);
  const auto id = r.inv.issue(1, 0);
  r.head(1, 0, id, "POST");
  CHECK(r.broke.empty());
  r.head(2, 1, id, "POST");
  CHECK(r.broken(sim::broken::replayed_post));
}

TEST_CASE("swarm watch holds a 504 to the response timeout and its bound", "[sim][swarm]") {
  rig r(false);
  const auto early = r.inv.issue(1, 0), late = r.inv.issue(1, 0), fine = r.inv.issue(1, 0);
  r.head(1, 0, early);
  r.head(2, 1, late);
  r.head(3, 2, fine);
  r.advance(900ms);
  r.inv.respond(early, 1, 504, true, true);
  CHECK(r.broken(sim::broken::timeout_bound));
  r.broke.clear();
  r.advance(200ms);
  r.inv.respond(fine, 1, 504, true, true);  // 1.1 s: within 1 s + 150 ms
  CHECK(r.broke.empty());
  r.advance(200ms);
  r.inv.respond(late, 1, 504, true, true);  // 1.3 s
  CHECK(r.broken(sim::broken::timeout_bound));
}

TEST_CASE("swarm watch requires a 504 from a host that never answers", "[sim][swarm]") {
  rig r(false);
  r.watch->fault(sim::fault::kind::hang, 0);
  const auto id = r.inv.issue(1, 0);
  r.head(1, 0, id);
  r.advance(1s);
  r.inv.respond(id, 1, 502, true, true);
  CHECK(r.broken(sim::broken::hung_not_504));
}

TEST_CASE("swarm watch requires a 502 or a closed connection from a half response", "[sim][swarm]") {
  rig r(false);
  r.watch->fault(sim::fault::kind::half_then_close, 1);
  const auto ok = r.inv.issue(1, 0), bad = r.inv.issue(1, 0);
  r.head(1, 1, ok);
  r.head(2, 1, bad);
  r.inv.fail(ok, 1, sim::outcome::conn_error);
  CHECK(r.broke.empty());
  r.inv.fail(bad, 1, sim::outcome::timeout);
  CHECK(r.broken(sim::broken::broken_not_502));
}

TEST_CASE("swarm watch reports two connects to a down host within one backoff", "[sim][swarm]") {
  rig r(true);
  r.hosts->eject(0, 0ns, 1s, 8s);
  r.advance(1s);
  r.connect(0);
  CHECK(r.broke.empty());
  r.advance(10ms);
  r.connect(0);  // a second probe in the same backoff period
  CHECK(r.broken(sim::broken::backoff));
}

TEST_CASE("swarm watch reports a down host passed over once its retry is due", "[sim][swarm]") {
  rig r(true);
  r.connect(1);  // the watch sees up1 up
  r.hosts->eject(0, r.ex.now(), 1s, 8s);
  r.head(1, 1, r.inv.issue(1, 0));  // ... and now down
  r.advance(3s);                    // its backoff (1 s) and any connect to it (1 s) are over
  for (std::uint64_t k = 0; k < 3; ++k) {
    r.opened(10 + k, 1);  // a new connection: picked now
    r.head(10 + k, 1, r.inv.issue(1, 0));
  }
  CHECK(r.broke.empty());
  r.connect(0);  // its first retry, after three requests went elsewhere
  CHECK(r.broken(sim::broken::backoff));
}

TEST_CASE("swarm watch reports a host still down, and a failure, after the liveness bound", "[sim][swarm]") {
  rig r(false);
  r.hosts->eject(2, 0ns, 1s, 8s);
  r.advance(1s);
  r.watch->liveness_due();
  CHECK(r.broken(sim::broken::not_live));
  r.broke.clear();
  r.advance(1ms);
  const auto id = r.inv.issue(1, 0);
  r.inv.respond(id, 1, 502, true, true);
  CHECK(r.broken(sim::broken::not_live));
}

TEST_CASE("swarm watch judges a down host, with active checks off, once requests placed upstream had their probe",
          "[sim][swarm]") {
  // Seeds 486, 515, 698: a spent rate limit refused every request from before the heal to
  // the end, so none could probe the down host; it is judged once 3 requests (3 hosts)
  // were placed upstream after its retry was due, 1 s after the third.
  const bool requests_before_bound = GENERATE(false, true);
  rig r(true);
  r.sc.swarm->heal_at = 10s;
  r.sc.swarm->passive_backoff_max = 4s;  // with the connect timeout (1 s): every retry due by 15 s
  r.sc.swarm->liveness_bound = 7s;
  r.advance(9s);
  r.hosts->eject(2, r.ex.now(), 1s, 4s);
  r.advance(requests_before_bound ? 6s : 8s);  // 15 s, or the liveness bound (17 s) with none yet
  const auto place_three = [&r] {
    for (std::size_t k = 0; k < 3; ++k) r.connect(k % 2);
  };
  if (requests_before_bound) {
    place_three();
    r.advance(2s);
    r.watch->liveness_due();  // 2 s after them: up2 should have answered its probe
    CHECK(r.broken(sim::broken::not_live));
    return;
  }
  r.watch->liveness_due();
  CHECK(r.broke.empty());  // no request could probe it yet
  r.advance(5s);
  place_three();  // the limit lets requests through again
  r.advance(999ms);
  r.connect(0);
  CHECK(r.broke.empty());  // its probe may still be on its way
  r.advance(2ms);
  r.connect(0);
  CHECK(r.broken(sim::broken::not_live));
}

TEST_CASE("swarm watch lets a down host come back by its probe after a late request", "[sim][swarm]") {
  rig r(true);
  r.sc.swarm->heal_at = 10s;
  r.sc.swarm->passive_backoff_max = 4s;
  r.sc.swarm->liveness_bound = 7s;
  r.advance(9s);
  r.hosts->eject(2, r.ex.now(), 1s, 4s);
  r.advance(8s);
  r.watch->liveness_due();
  r.advance(5s);
  r.connect(2);  // its probe, which it answers
  r.hosts->restore(2);
  r.connect(0);
  r.connect(1);
  r.advance(2s);
  r.connect(0);
  CHECK(r.broke.empty());
}

TEST_CASE("check watch reports a first check before one interval", "[sim][swarm]") {
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv(ex, tr);
  const auto a = rig::endpoint(0), b = rig::endpoint(1);
  const std::vector<bb::upstream_config> configs{{"up1", a, 1}, {"up2", b, 1}};
  const bb::cluster hosts(configs);
  sim::check_watch w(ex, inv, {"up1", "up2"}, 2s, 1);
  sim::event_bus bus;
  bus.subscribe(w);
  sim::event_decoder d(ex, hosts, {a, b}, bus);
  ex.at(2s + 100ms, sim::event{[](void*, std::uint64_t) {}, nullptr, 0});
  ex.run();
  d.check_tap().connecting(a);  // round 1 at 2 s, within the spread of 200 ms
  CHECK(inv.violations() == 0);
  d.proxy_tap().connecting(a);  // the proxy's connects are no checks
  CHECK(inv.violations() == 0);
  d.check_tap().connecting(a);  // round 2 comes 2 s early
  CHECK(inv.violations() == 1);
  CHECK(inv.first().starts_with("check_timing"));
  d.check_tap().connecting(b);
  CHECK(inv.violations() == 1);
}

TEST_CASE("check watch reports a host that came up before rise checks in a row passed", "[sim][swarm]") {
  struct row {
    const char* what;
    std::vector<int> answers;  // the statuses of the checks read while the host was down
    bool broken;
  };
  const auto r = GENERATE(row{"two passes", {200, 200}, false}, row{"one pass", {200}, true},
                          row{"a pass, a 503, a pass", {200, 503, 200}, true},
                          row{"a 503, then two passes", {503, 200, 200}, false},
                          row{"a pass before it went down, one after", {}, true});
  INFO(r.what);
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv(ex, tr);
  const auto a = rig::endpoint(0), b = rig::endpoint(1);
  const std::vector<bb::upstream_config> configs{{"up1", a, 1}, {"up2", b, 1}};
  bb::cluster hosts(configs);
  sim::check_watch w(ex, inv, {"up1", "up2"}, 2s, 2);
  sim::event_bus bus;
  bus.subscribe(w);
  sim::event_decoder d(ex, hosts, {a, b}, bus);
  std::uint64_t conn = 0;
  const auto check = [&](int status) {
    sim::connection c;
    c.id = ++conn;
    d.check_tap().opened(c, a);
    d.check_tap().read(c, a, "HTTP/1.1 " + std::to_string(status) + " X\r\n\r\n");
  };
  if (r.answers.empty()) check(200);  // while up: does not count toward a comeback
  hosts.set_up(0, false);
  if (r.answers.empty()) check(200);
  for (int status : r.answers) check(status);
  hosts.set_up(0, true);
  d.finish();
  CHECK(inv.violations() == (r.broken ? 1u : 0u));
  if (r.broken) CHECK(inv.first().starts_with("early_rise"));
}
