// The metrics watch (sim/metrics_watch.hpp), fed by the event decoder (sim/event_decoder.hpp),
// shown able to fail: a hand-made run of transport events,
// the proxy counters that match it (no violation), then each counter off by one (one
// `metrics` violation naming it).

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <sim/event_decoder.hpp>
#include <sim/events.hpp>
#include <sim/metrics_watch.hpp>
#include <sim/trace.hpp>
#include <string>
#include <vector>

namespace sim = bb::sim;

namespace {

bb::endpoint address(std::size_t i) {
  return bb::endpoint{bb::ip_address::v4(10, 0, 1, static_cast<std::uint8_t>(i + 1)), 8080};
}

/// A metrics watch over two hosts, fed the events of a short run by hand.
struct rig {
  rig() {
    for (std::size_t i = 0; i < 2; ++i) configs.push_back({"up" + std::to_string(i + 1), address(i), 1});
    hosts.emplace(configs);
    for (int o = 0; o < static_cast<int>(sim::outcome_count); ++o) inv.allow(static_cast<sim::outcome>(o));
    tr.set_sink([this](const sim::record& r) {
      if (r.kind == sim::ev::violation) broke.push_back(static_cast<sim::broken>(r.x));
    });
    watch.emplace(inv, *hosts, std::vector<std::string>{"up1", "up2"});
    events.subscribe(*watch);
    inv.add_outcome_tap([this](const sim::claim& c, sim::duration l) { events.request_resolved(c, l); });
    decoder.emplace(ex, *hosts, std::vector<bb::endpoint>{address(0), address(1)}, events);
  }

  sim::connection conn(std::uint64_t id) {
    sim::connection c;
    c.id = id;
    return c;
  }
  /// The proxy (or with `check`, the checker) connects to host `i`: connection `id`.
  void connect(std::uint64_t id, std::size_t i, bool check = false) {
    auto& t = check ? decoder->check_tap() : decoder->proxy_tap();
    t.connecting(address(i));
    t.opened(conn(id), address(i));
  }
  /// The proxy writes the head of request `req` (`method`) on connection `id` to host `i`.
  void head(std::uint64_t id, std::size_t i, std::uint64_t req, const std::string& method = "GET") {
    const std::string bytes = method + " /r/" + std::to_string(req) + "/10 HTTP/1.1\r\n\r\n";
    const bb::const_buffer b[] = {{bytes.data(), bytes.size()}};
    decoder->proxy_tap().wrote(conn(id), address(i), b);
  }
  /// The proxy (or the checker) reads `bytes` on connection `id` from host `i`.
  void read(std::uint64_t id, std::size_t i, std::string_view bytes, bool check = false) {
    (check ? decoder->check_tap() : decoder->proxy_tap()).read(conn(id), address(i), bytes);
  }
  /// Runs `f` as one event of the executor (the decoder looks at the cluster after each).
  void event(std::function<void()> f) {
    ex.post(sim::event{[](void* p, std::uint64_t) { (*static_cast<std::function<void()>*>(p))(); }, &f, 0});
    ex.run();
  }
  /// Request `id`'s client got `status`.
  void outcome(std::uint64_t id, int status) { inv.respond(id, 1, status, true, true, 0); }

  std::vector<sim::broken> metrics_broken() const {
    std::vector<sim::broken> v;
    std::copy_if(broke.begin(), broke.end(), std::back_inserter(v),
                 [](sim::broken b) { return b == sim::broken::metrics; });
    return v;
  }

  sim::executor ex;
  sim::trace tr;
  sim::invariants inv{ex, tr};
  std::vector<bb::upstream_config> configs;
  std::optional<bb::cluster> hosts;
  std::optional<sim::metrics_watch> watch;
  sim::event_bus events;
  std::optional<sim::event_decoder> decoder;
  std::vector<sim::broken> broke;
};

/// The counters a proxy that counted the run of play() right would have.
struct figures {
  std::uint64_t attempts[2] = {4, 2};  // up1: #1, #2 and #3 (pooled), #4's retry; up2: #4, #5
  std::uint64_t up1_2xx = 3, up1_5xx = 1;
  std::uint64_t retries[2] = {0, 1};  // #4's first attempt, on up2
  std::uint64_t timeouts = 0;
  std::uint64_t limited = 1;
  std::uint64_t passed = 1, failed = 1;  // up1's checks
  std::uint32_t extra_changes = 0;

  void apply(bb::proxy_stats& st, bb::check_stats (&checks)[2], bb::cluster& hosts) const {
    for (std::size_t i = 0; i < 2; ++i) {
      st.upstream[i].attempts.add(attempts[i]);
      st.upstream[i].retries.add(retries[i]);
    }
    st.upstream[0].responses[2].add(up1_2xx);
    st.upstream[0].responses[5].add(up1_5xx);
    st.upstream[1].timeouts.add(timeouts);
    st.rate_limited.add(limited);
    checks[0].passed.add(passed);
    checks[0].failed.add(failed);
    hosts.health(1).changes.fetch_add(extra_changes);
  }
};

/// A short run: what the proxy and its checker did, and what the clients got.
void play(rig& r) {
  for (int i = 0; i < 6; ++i) r.inv.issue(1, 0);
  // #1: up1 on a new connection, 200 with a body read in two pieces.
  r.connect(1, 0);
  r.head(1, 0, 1);
  r.read(1, 0, "HTTP/1.1 200 OK\r\nContent-Len");
  r.read(1, 0, "gth: 3\r\n\r\nab");
  // #2: the same connection, taken from the pool (an attempt without a connect); the rest
  // of #1's body and #2's 500 in one read.
  r.head(1, 0, 2);
  r.read(1, 0, "cHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
  // #3: a HEAD there: its 200 announces a length but has no body; then bytes nobody asked
  // for, which unframe the connection (nothing after them counts).
  r.head(1, 0, 3, "HEAD");
  r.read(1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
  r.read(1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  // #4: up2 first (its connection is reset before an answer), then up1 on a new
  // connection: 201.
  r.connect(2, 1);
  r.head(2, 1, 4);
  r.connect(3, 0);
  r.head(3, 0, 4);
  r.read(3, 0, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  // #5: a connect to up2 that fails: an attempt with no head, and a 502.
  r.decoder->proxy_tap().connecting(address(1));
  // up2 goes down and comes back; two checks of up1, one passes.
  r.event([&] { r.hosts->set_up(1, false); });
  r.event([&] { r.hosts->set_up(1, true); });
  r.connect(10, 0, true);
  r.read(10, 0, "HTTP/1.1 200 OK\r\n\r\n", true);
  r.connect(11, 0, true);
  r.read(11, 0, "HTTP/1.1 503 Busy\r\n\r\n", true);
  r.outcome(1, 200);
  r.outcome(2, 500);
  r.outcome(3, 200);
  r.outcome(4, 201);
  r.outcome(5, 502);
  r.outcome(6, 429);  // refused by the rate limit: never sent
}

}  // namespace

TEST_CASE("metrics watch finds nothing to report when the proxy's counters match what happened", "[sim][metrics]") {
  rig r;
  play(r);
  bb::proxy_stats st(2);
  bb::check_stats checks[2];
  figures{}.apply(st, checks, *r.hosts);
  r.watch->finish({&st}, {&checks[0], &checks[1]});
  CHECK(r.broke.empty());
  CHECK(r.watch->checks() >= 20);
}

TEST_CASE("metrics watch reports each proxy counter that differs from what happened", "[sim][metrics]") {
  struct row {
    const char* what;
    void (*skew)(figures&);
  };
  const auto r0 = GENERATE(row{"an attempt on a pooled connection uncounted", [](figures& f) { f.attempts[0] = 3; }},
                           row{"a failed connect uncounted", [](figures& f) { f.attempts[1] = 1; }},
                           row{"a 5xx head counted as 2xx", [](figures& f) { f.up1_2xx = 4, f.up1_5xx = 0; }},
                           row{"the unasked bytes counted as a head", [](figures& f) { f.up1_2xx = 4; }},
                           row{"a state change counted twice", [](figures& f) { f.extra_changes = 1; }},
                           row{"a retry uncounted", [](figures& f) { f.retries[1] = 0; }},
                           row{"retries counted that found no host to go to", [](figures& f) { f.retries[1] = 3; }},
                           row{"a timeout that no 504 followed", [](figures& f) { f.timeouts = 1; }},
                           row{"a refusal uncounted", [](figures& f) { f.limited = 0; }},
                           row{"a failed check uncounted", [](figures& f) { f.failed = 0, f.passed = 0; }},
                           row{"a failed check counted as passed", [](figures& f) { f.passed = 2, f.failed = 0; }});
  INFO(r0.what);
  rig r;
  play(r);
  figures f;
  r0.skew(f);
  bb::proxy_stats st(2);
  bb::check_stats checks[2];
  f.apply(st, checks, *r.hosts);
  r.watch->finish({&st}, {&checks[0], &checks[1]});
  CHECK(r.metrics_broken().size() >= 1);
  CHECK(r.broke.size() == r.metrics_broken().size());
}
