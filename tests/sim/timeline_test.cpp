#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <sim/latency_histogram.hpp>
#include <sim/scenarios.hpp>
#include <sim/timeline.hpp>
#include <sim/timeline_html.hpp>
#include <sim/world.hpp>
#include <sstream>
#include <string>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("latency_histogram gives quantiles within 12.5 % of the exact ones", "[sim][latency_histogram]") {
  const auto scale = GENERATE(2'000.0, 300'000.0, 40'000'000.0);  // ns: 2 µs, 0.3 ms, 40 ms
  bb::rng r(7);
  std::vector<sim::duration> all;
  sim::latency_histogram h;
  for (int i = 0; i < 20'000; ++i) {
    const auto d = sim::duration(static_cast<std::int64_t>(r.exponential(scale)) + 1500);
    all.push_back(d), h.add(d);
  }
  std::sort(all.begin(), all.end());
  for (double q : {0.5, 0.9, 0.99}) {
    const auto exact = static_cast<double>(all[static_cast<std::size_t>(std::ceil(q * 20'000)) - 1].count());
    const auto approx = static_cast<double>(h.quantile(q).count());
    INFO("scale " << scale << " q " << q << ": exact " << exact << " ns, histogram " << approx << " ns");
    CHECK(std::abs(approx - exact) <= 0.125 * exact);
  }
  CHECK(h.count() == 20'000);
}

TEST_CASE("latency_histogram puts every duration in a bin whose middle is near it", "[sim][latency_histogram]") {
  for (std::int64_t ns = 1024; ns < (std::int64_t{1} << 37); ns = ns * 9 / 8 + 1) {
    const auto mid =
        static_cast<double>(sim::latency_histogram::middle(sim::latency_histogram::bin_of(sim::duration(ns))).count());
    INFO(ns << " ns in a bin with middle " << mid);
    CHECK(std::abs(mid - static_cast<double>(ns)) <= 0.125 * static_cast<double>(ns));
  }
}

TEST_CASE("timeline merges buckets pairwise past its limit and keeps every count", "[sim][timeline]") {
  sim::timeline t;
  t.start({"up1"}, nullptr);
  const auto span = sim::timeline::first_width * static_cast<std::int64_t>(3 * sim::timeline::max_buckets);
  std::uint64_t n = 0;
  for (sim::duration at{0}; at < span; at += 37ms, ++n) {
    if (at >= span / 2 && t.markers().empty()) t.fault(at, 0, sim::crashed, true, "crash");
    t.outcome(at, {.id = n + 1, .what = sim::outcome::ok, .status = 200}, 1ms);
  }
  t.finish(span);
  CHECK(t.buckets() <= sim::timeline::max_buckets);
  CHECK(t.width() == sim::timeline::first_width * 4);
  std::uint64_t counted = 0, crashed = 0;
  for (std::size_t b = 0; b < t.buckets(); ++b) {
    counted += t.count(b, sim::timeline_kind::ok);
    crashed += (t.state(b, 0) & sim::crashed) ? 1 : 0;
  }
  CHECK(counted == n);
  CHECK(crashed >= t.buckets() / 2);
  CHECK(crashed <= t.buckets() / 2 + 1);
  CHECK(t.markers().size() == 1);
}

TEST_CASE("timeline only observes: a run attached to one has the same trace hash", "[sim][timeline]") {
  const auto sc = sim::make_scenario("upstream_flap", 3, 20s);
  sim::world plain(sc);
  const auto expected = plain.run();
  sim::timeline t;
  sim::world w(sc);
  w.attach(t);
  const auto r = w.run();
  INFO("replay: build/bin/sim --scenario upstream_flap --seed 3 --duration 20 --timeline t.html");
  CHECK(r.trace_hash == expected.trace_hash);
  CHECK(r.violations == 0);
  std::uint64_t outcomes = 0, down = 0;
  for (std::size_t b = 0; b < t.buckets(); ++b) {
    for (std::size_t k = 0; k < sim::timeline_kind_count; ++k)
      outcomes += t.count(b, static_cast<sim::timeline_kind>(k));
    for (std::size_t i = 0; i < t.upstreams().size(); ++i) down += (t.state(b, i) & sim::seen_down) ? 1 : 0;
  }
  CHECK(outcomes == r.requests);
  CHECK(down > 0);  // the flapping upstream was seen down by the cluster
  CHECK(!t.markers().empty());

  std::ostringstream page;
  sim::write_timeline_html(page, t, {sc.name, sc.seed, sc.parameters(), ""});
  const auto html = page.str();
  CHECK(occurrences(html, "<g class=\"band\"") == 3);
  CHECK(occurrences(html, "<g class=\"fault-marker\"") == t.markers().size());
  CHECK(occurrences(html, "<span id=\"seed\">3</span>") == 1);
  CHECK(occurrences(html, "<script") == 0);
}
