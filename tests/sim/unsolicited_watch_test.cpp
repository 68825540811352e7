#include <catch2/catch.hpp>
#include <memory>
#include <sim/invariants.hpp>
#include <sim/unsolicited_watch.hpp>
#include <string>
#include <vector>

namespace sim = bb::sim;

namespace {

/// A watch over one upstream, and the invariants it judges for.
struct watch_fixture {
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv{ex, tr};
  bb::endpoint up{bb::ip_address::v4(10, 0, 1, 1), 8080};
  sim::unsolicited_watch w{ex, inv, {"up1"}, {up}};
  std::vector<std::unique_ptr<sim::connection>> conns;

  sim::connection& open(std::uint64_t id) {
    auto& c = *conns.emplace_back(std::make_unique<sim::connection>());
    c.id = id;
    w.opened(c, up);
    return c;
  }
  void head(sim::connection& c, std::uint64_t request) {
    const auto h = "GET /r/" + std::to_string(request) + "/5 HTTP/1.1\r\n\r\n";
    const bb::const_buffer b[] = {{h.data(), h.size()}};
    w.wrote(c, up, b);
  }
  /// The upstream writes `p` (10 bytes) on `c`; it reaches the proxy when `arrive`.
  void upstream(sim::connection& c, sim::piece p) { w.record(c.id, 10, p); }
  void arrive(sim::connection& c) { w.delivered(c, 0, 10); }
  static sim::piece answer(std::uint64_t r) { return {sim::piece::what::answer, r, r}; }
  static sim::piece poisoned(std::uint64_t r) { return {sim::piece::what::poisoned, r, r}; }
  static sim::piece garbage(std::uint64_t r) { return {sim::piece::what::garbage, r, 0}; }
};

}  // namespace

TEST_CASE("unsolicited_watch excuses the answer that raced the next request, and only that", "[sim][unsolicited]") {
  watch_fixture f;
  const auto r1 = f.inv.issue(1, 0), r2 = f.inv.issue(1, 0), r3 = f.inv.issue(1, 0);
  auto& c = f.open(7);
  f.head(c, r1);
  f.upstream(c, f.answer(r1));
  f.arrive(c);  // in step
  f.upstream(c, f.poisoned(r1));
  f.head(c, r2);  // taken from the pool before the poisoned bytes arrived
  f.arrive(c);
  f.inv.respond(r2, 1, 200, false, true, r1);  // the race: excused
  CHECK(f.inv.violations() == 0);
  f.upstream(c, f.answer(r2));
  f.arrive(c);  // r2's own answer now arrives with nothing waiting: the connection is done
  f.head(c, r3);
  f.inv.respond(r3, 1, 200, false, true, r2);
  CHECK(f.inv.violations() == 1);
  CHECK(f.inv.first().starts_with("wrong_answer (#3)"));
  CHECK(f.inv.first().find("arrived idle") != std::string::npos);
}

TEST_CASE("unsolicited_watch does not excuse a wrong answer on a connection whose bytes arrived idle",
          "[sim][unsolicited]") {
  watch_fixture f;
  const auto r1 = f.inv.issue(1, 0), r2 = f.inv.issue(1, 0);
  auto& c = f.open(7);
  f.head(c, r1);
  f.upstream(c, f.answer(r1));
  f.arrive(c);
  f.upstream(c, f.poisoned(r1));
  f.arrive(c);    // idle in the pool: it must be closed, never reused
  f.head(c, r2);  // reused anyway
  f.inv.respond(r2, 1, 200, false, true, r1);
  CHECK(f.inv.violations() == 1);
}

TEST_CASE("unsolicited_watch excuses only the failures of the request garbage misled", "[sim][unsolicited]") {
  watch_fixture f;
  const auto r1 = f.inv.issue(1, 0), r2 = f.inv.issue(1, 0), r3 = f.inv.issue(1, 0), r4 = f.inv.issue(1, 0);
  auto& c = f.open(7);
  f.head(c, r1);
  f.upstream(c, f.answer(r1));
  f.arrive(c);
  f.upstream(c, f.garbage(r1));
  f.head(c, r2);
  f.arrive(c);
  f.inv.fail(r3, 1, sim::outcome::conn_error, r2);  // pipelined behind r2 on the client's side
  f.inv.respond(r2, 1, 502, false, true, 0);
  CHECK(f.inv.violations() == 0);
  f.inv.respond(r4, 1, 502, false, true, 0);  // nothing misled it
  CHECK(f.inv.violations() == 1);
  CHECK(f.inv.first().starts_with("disallowed_outcome (#4)"));
}

TEST_CASE("unsolicited_watch judges a retry on the connection it went to, not the one that misled it",
          "[sim][unsolicited]") {
  watch_fixture f;
  const auto r1 = f.inv.issue(1, 0), r2 = f.inv.issue(1, 0);
  auto& c = f.open(7);
  auto& d = f.open(8);
  f.head(c, r1);
  f.upstream(c, f.answer(r1));
  f.arrive(c);
  f.upstream(c, f.garbage(r1));
  f.head(c, r2);
  f.arrive(c);    // misled on c...
  f.head(d, r2);  // ...retried on d, which is clean
  f.inv.respond(r2, 1, 502, false, true, 0);
  CHECK(f.inv.violations() == 1);
}

TEST_CASE("unsolicited_watch excuses a 502 for an early-answered POST only when the answer was never readable",
          "[sim][unsolicited]") {
  watch_fixture f;
  const auto r1 = f.inv.issue(1, 0), r2 = f.inv.issue(1, 0), r3 = f.inv.issue(1, 0);
  auto& c = f.open(7);
  auto& d = f.open(8);
  auto& e = f.open(9);
  const auto early = [](std::uint64_t r) { return sim::piece{sim::piece::what::early_answer, r, r}; };
  f.head(c, r1);
  f.upstream(c, early(r1));
  f.arrive(c);  // reached an open end: the proxy could read it
  f.inv.respond(r1, 1, 502, false, true, 0);
  CHECK(f.inv.violations() == 1);
  f.head(d, r2);
  f.upstream(d, early(r2));
  d.sides[0].closed = true;  // the proxy had closed its end first
  f.arrive(d);
  f.inv.respond(r2, 1, 502, false, true, 0);
  CHECK(f.inv.violations() == 1);
  f.head(e, r3);
  f.upstream(e, early(r3));
  f.arrive(e);
  f.inv.respond(r3, 1, 413, false, true, r3);  // relayed: allowed for exactly this request
  CHECK(f.inv.violations() == 1);
}
