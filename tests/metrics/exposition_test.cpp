// bb::metrics: the text exposition format byte for byte, histogram buckets and quantiles,
// single-writer counters.

#include <bb/metrics/counter.hpp>
#include <bb/metrics/exposition.hpp>
#include <bb/metrics/histogram.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

using namespace std::chrono_literals;

TEST_CASE("exposition writes a family's help and type, then its samples", "[metrics][exposition]") {
  std::string out;
  bb::metrics::exposition e(out);
  e.family("balancebeam_requests_total", "counter", "Requests answered, by class of status.");
  e.sample("balancebeam_requests_total", {{"code_class", "2xx"}}, 12);
  e.sample("balancebeam_requests_total", {{"code_class", "5xx"}}, 0);
  e.family("balancebeam_up", "gauge", "Whether it runs.");
  e.sample("balancebeam_up", {}, 1);
  CHECK(out ==
        "# HELP balancebeam_requests_total Requests answered, by class of status.\n"
        "# TYPE balancebeam_requests_total counter\n"
        "balancebeam_requests_total{code_class=\"2xx\"} 12\n"
        "balancebeam_requests_total{code_class=\"5xx\"} 0\n"
        "# HELP balancebeam_up Whether it runs.\n"
        "# TYPE balancebeam_up gauge\n"
        "balancebeam_up 1\n");
}

TEST_CASE("exposition escapes label values and help text as the format says", "[metrics][exposition]") {
  const auto [value, escaped] = GENERATE(table<std::string, std::string>({
      {"plain", "plain"},
      {"a\"b", "a\\\"b"},
      {"a\\b", "a\\\\b"},
      {"a\nb", "a\\nb"},
      {"\\\"\n", "\\\\\\\"\\n"},
      {"", ""},
  }));
  std::string out;
  bb::metrics::exposition e(out);
  e.sample("m", {{"upstream", value}}, 1);
  CHECK(out == "m{upstream=\"" + escaped + "\"} 1\n");
  out.clear();
  e.family("m", "gauge", "help with \\ and \n and \"quotes\"");
  CHECK(out == "# HELP m help with \\\\ and \\n and \"quotes\"\n# TYPE m gauge\n");
}

TEST_CASE("exposition writes signed and real values exactly", "[metrics][exposition]") {
  std::string out;
  bb::metrics::exposition e(out);
  const bb::metrics::label none[] = {{"a", "b"}};
  e.sample_signed("g", none, -3);
  e.sample_signed("g", none, std::numeric_limits<std::int64_t>::min());
  e.sample_real("r", {}, 0.25);
  e.sample_real("r", {}, std::numeric_limits<double>::infinity());
  e.sample_real("r", {}, std::nan(""));
  e.sample_real("r", {}, 1700000000.5);
  CHECK(out ==
        "g{a=\"b\"} -3\n"
        "g{a=\"b\"} -9223372036854775808\n"
        "r 0.25\n"
        "r +Inf\n"
        "r NaN\n"
        "r 1700000000.5\n");
}

TEST_CASE("histogram buckets are cumulative, end in +Inf, with the sum in seconds and the count",
          "[metrics][histogram]") {
  bb::metrics::histogram h;
  h.record(200us);  // <= 0.5 ms
  h.record(500us);  // exactly on the first bound: counted there
  h.record(700us);  // <= 1 ms
  h.record(3ms);    // <= 5 ms
  h.record(30s);    // +Inf
  h.record(-1ms);   // a clock that went backwards counts as 0
  bb::metrics::histogram_snapshot s;
  s.add(h);
  CHECK(s.count() == 6);
  std::string out;
  bb::metrics::exposition e(out);
  e.histogram("d_seconds", {{"upstream", "a:1"}}, s);
  CHECK(out ==
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.0005\"} 3\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.001\"} 4\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.0025\"} 4\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.005\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.01\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.025\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.05\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.1\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.25\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"0.5\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"1\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"2.5\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"5\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"10\"} 5\n"
        "d_seconds_bucket{upstream=\"a:1\",le=\"+Inf\"} 6\n"
        "d_seconds_sum{upstream=\"a:1\"} 30.0044\n"
        "d_seconds_count{upstream=\"a:1\"} 6\n");
}

TEST_CASE("histogram snapshots sum workers and bound quantiles from above", "[metrics][histogram]") {
  bb::metrics::histogram a, b;
  for (int i = 0; i < 90; ++i) a.record(800us);  // the 0.001 bucket
  for (int i = 0; i < 10; ++i) b.record(40ms);   // the 0.05 bucket
  bb::metrics::histogram_snapshot s;
  CHECK(s.quantile_bound_s(0.5) == 0);
  s.add(a);
  s.add(b);
  CHECK(s.count() == 100);
  CHECK(s.quantile_bound_s(0.5) == 0.001);
  CHECK(s.quantile_bound_s(0.9) == 0.001);
  CHECK(s.quantile_bound_s(0.99) == 0.05);
}

TEST_CASE("counter and gauge add on their owner's thread and read anywhere", "[metrics][counter]") {
  bb::metrics::counter c;
  c.add();
  c.add(41);
  CHECK(c.value() == 42);
  bb::metrics::gauge g;
  g.add(3);
  g.add(-5);
  CHECK(g.value() == -2);
  g.set(7);
  CHECK(g.value() == 7);
}
