// What the proxy counts for /metrics, at each increment point, on the simulated network:
// a forwarded request, the proxy's own refusals by reason, a connect that failed and the
// retry after it, an upstream that timed out; then the exposition of those counts summed
// over workers.

#include <bb/core/task.hpp>
#include <bb/metrics/exposition.hpp>
#include <bb/proxy/exposition.hpp>
#include <catch2/catch.hpp>

#include "sim_rig.hpp"

#include <string>

using namespace std::chrono_literals;
namespace sim = bb::sim;
using proxy_test::connect;
using proxy_test::read_response;
using proxy_test::rig;
using proxy_test::send;

namespace {
std::uint64_t own(const bb::proxy_stats& s, bb::own_answer a) {
  return s.own_answers[static_cast<std::size_t>(a)].value();
}
}  // namespace

TEST_CASE("proxy counts a forwarded request: client side, upstream side, durations, in flight", "[proxy][stats]") {
  rig setup(sim::behaviour::echo);
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    sim::http_lite::reader rd;
    co_await send(s, sim::http_lite::make_request("GET", "/r/1/10", {}, false));
    auto m = co_await read_response(s, rd);
    CHECK(m.status == 200);
    const auto& st = r.proxy->stats();
    CHECK(st.connections.value() == 1);
    CHECK(st.open_connections.value() == 1);
    CHECK(st.requests.value() == 1);
    CHECK(st.responses[2].value() == 1);
    bb::metrics::histogram_snapshot d;
    d.add(st.request_duration);
    CHECK(d.count() == 1);
    CHECK(d.sum_ns > 0);
    const auto& u = st.upstream[0];
    CHECK(u.attempts.value() == 1);
    CHECK(u.responses[2].value() == 1);
    CHECK(u.in_flight.value() == 0);
    bb::metrics::histogram_snapshot ud;
    ud.add(u.response_duration);
    CHECK(ud.count() == 1);
    CHECK(ud.sum_ns <= d.sum_ns);  // the upstream's part of the client's time
    CHECK(u.connect_errors.value() == 0);
    CHECK(u.retries.value() == 0);
    for (std::size_t a = 0; a < st.own_answers.size(); ++a) CHECK(st.own_answers[a].value() == 0);
    s.close();
    co_await r.client_clock.sleep_for(10ms);
    CHECK(st.open_connections.value() == 0);
  });
}

TEST_CASE("proxy counts its own answers by reason, and not as upstream responses", "[proxy][stats]") {
  rig setup(sim::behaviour::echo);
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    sim::http_lite::reader rd;
    co_await send(s, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    auto m = co_await read_response(s, rd);
    CHECK(m.status == 400);
    const auto& st = r.proxy->stats();
    CHECK(st.bad_requests.value() == 1);
    CHECK(st.responses[4].value() == 1);
    CHECK(own(st, bb::own_answer::bad_request) == 1);
    CHECK(st.upstream[0].responses[4].value() == 0);
    bb::metrics::histogram_snapshot d;
    d.add(st.request_duration);
    CHECK(d.count() == 1);
  });
}

TEST_CASE("proxy counts a failed connect and the retry that followed it against that upstream", "[proxy][stats]") {
  rig setup(sim::behaviour::echo);
  // A second upstream where nothing listens: its connects are refused.
  setup.config.upstreams.push_back({"dead", bb::endpoint{bb::ip_address::v4(10, 0, 1, 1), 9}});
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    sim::http_lite::reader rd;
    for (int i = 1; i <= 12; ++i) {
      co_await send(s, sim::http_lite::make_request("GET", "/r/" + std::to_string(i) + "/10", {}, false));
      auto m = co_await read_response(s, rd);
      CHECK(m.status == 200);
    }
    const auto& st = r.proxy->stats();
    // Picked at least once among 12 random picks (the seed is fixed), then ejected for the backoff.
    CHECK(st.upstream[1].connect_errors.value() == 1);
    CHECK(st.upstream[1].retries.value() == 1);
    CHECK(st.upstream[1].attempts.value() == 1);  // the failed connect
    CHECK(st.upstream[0].attempts.value() == 12);
    CHECK(st.upstream[1].responses[2].value() == 0);
    CHECK(st.upstream[0].responses[2].value() == 12);
    CHECK(st.upstream[1].in_flight.value() == 0);
    CHECK(st.responses[2].value() == 12);
  });
}

TEST_CASE("proxy counts an upstream that did not answer in time, and the 504 it gave", "[proxy][stats]") {
  rig setup(sim::behaviour::hang);
  setup.config.upstream_response_timeout = 200ms;
  setup.run([](rig& r) -> bb::task<void> {
    auto s = co_await connect(r);
    sim::http_lite::reader rd;
    co_await send(s, sim::http_lite::make_request("GET", "/r/1/10", {}, false));
    auto m = co_await read_response(s, rd);
    CHECK(m.status == 504);
    const auto& st = r.proxy->stats();
    CHECK(st.upstream[0].timeouts.value() == 1);
    CHECK(own(st, bb::own_answer::gateway_timeout) == 1);
    CHECK(st.upstream[0].in_flight.value() == 0);
  });
}

TEST_CASE("write_proxy_metrics sums the workers' counts per family and upstream", "[proxy][stats][exposition]") {
  bb::proxy_config cfg;
  cfg.upstreams.push_back({"a:1", bb::endpoint{bb::ip_address::v4(127, 0, 0, 1), 1}, 3});
  cfg.upstreams.push_back({"b:2", bb::endpoint{bb::ip_address::v4(127, 0, 0, 1), 2}, 1});
  bb::cluster hosts(cfg.upstreams);
  hosts.set_up(1, false);
  bb::proxy_stats w1(2), w2(2);
  w1.responses[2].add(5);
  w2.responses[2].add(7);
  w2.own(431);
  w1.upstream[1].retries.add(2);
  w2.upstream[1].retries.add(3);
  w1.upstream[0].in_flight.add(1);
  w2.upstream[0].in_flight.add(2);
  w1.request_duration.record(3ms);
  w2.request_duration.record(300ms);
  bb::pool_counters p1[2], p2[2];
  p1[0].pooled.add(4);
  p2[0].pooled.add(6);
  p1[1].idle.set(2);
  p2[1].idle.set(1);
  w1.upstream[0].attempts.add(4);
  w2.upstream[0].attempts.add(1);
  const bb::proxy_stats* workers[] = {&w1, &w2};
  const bb::pool_counters* pools[] = {p1, p2};
  std::string text;
  bb::metrics::exposition e(text);
  bb::write_proxy_metrics(e, bb::metrics_sources{.workers = workers,
                                                 .pool = [&](std::size_t w, std::size_t i) -> const bb::pool_counters& {
                                                   return pools[w][i];
                                                 },
                                                 .hosts = hosts,
                                                 .config = cfg});
  INFO(text);
  const auto has = [&](const std::string& line) { return text.find("\n" + line + "\n") != std::string::npos; };
  CHECK(has("# TYPE balancebeam_requests_total counter"));
  CHECK(has("balancebeam_requests_total{code_class=\"2xx\"} 12"));
  CHECK(has("balancebeam_request_errors_total{reason=\"header_fields_too_large\"} 1"));
  CHECK(has("balancebeam_upstream_retries_total{upstream=\"b:2\"} 5"));
  CHECK(has("balancebeam_upstream_attempts_total{upstream=\"a:1\"} 5"));
  CHECK(has("balancebeam_upstream_pool_idle_connections{upstream=\"b:2\"} 3"));
  CHECK(has("balancebeam_upstream_requests_in_flight{upstream=\"a:1\"} 3"));
  CHECK(has("balancebeam_upstream_up{upstream=\"a:1\"} 1"));
  CHECK(has("balancebeam_upstream_up{upstream=\"b:2\"} 0"));
  CHECK(has("balancebeam_upstream_weight{upstream=\"a:1\"} 3"));
  CHECK(has("balancebeam_upstream_state_changes_total{upstream=\"b:2\"} 1"));
  CHECK(has("balancebeam_upstream_pool_connections_total{upstream=\"a:1\",event=\"pooled\"} 10"));
  CHECK(has("balancebeam_request_duration_seconds_count 2"));
  CHECK(has("balancebeam_request_duration_seconds_bucket{le=\"0.005\"} 1"));
  CHECK(has("balancebeam_request_duration_seconds_bucket{le=\"0.25\"} 1"));
  CHECK(has("balancebeam_request_duration_seconds_bucket{le=\"0.5\"} 2"));
  // Checks off: the families are there, at zero.
  CHECK(has("balancebeam_health_checks_total{upstream=\"a:1\",result=\"passed\"} 0"));
}
