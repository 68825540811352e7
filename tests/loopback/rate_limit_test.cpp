// Rate limiting over real sockets: CS110L case 7 (a fixed one-minute window) and GCRA,
// against the built balancebeam program with an in-process echo upstream.

#include "checks.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

using namespace bb_test;

namespace {

/// The fixed window is aligned to whole minutes of the proxy's clock, steady_clock
/// (CLOCK_MONOTONIC, which this process shares). A case that crossed a window edge would
/// see its count start again, so it starts only with `needed` left before the next edge.
void wait_for_room_in_minute_window(std::chrono::seconds needed) {
  using namespace std::chrono;
  const auto into = steady_clock::now().time_since_epoch() % minutes(1);
  if (minutes(1) - into < needed) std::this_thread::sleep_for(minutes(1) - into + milliseconds(100));
}

/// A Retry-After (or X-RateLimit-*) value as whole seconds; -1 when it is not one.
long whole_seconds(const std::optional<std::string>& v) {
  if (!v || v->empty() || v->find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(*v);
}

/// What every 429 of the proxy must show.
void check_refused(const http_response& r, const std::string& limit) {
  INFO("response: " << r.status_line << "\n" << r.body);
  CHECK(r.status == 429);
  CHECK(r.header("x-ratelimit-limit") == limit);
  CHECK(r.header("x-ratelimit-remaining") == "0");
  CHECK(whole_seconds(r.header("retry-after")) > 0);
  CHECK_FALSE(r.header("connection") == "close");
}

}  // namespace

TEST_CASE("balancebeam answers 429 past the per-minute limit, without forwarding (cs110l 7)",
          "[loopback][balancebeam]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--max-requests-per-minute", "5"});
  wait_for_room_in_minute_window(std::chrono::seconds(5));

  for (int i = 0; i < 5; ++i) {
    http_client client(proxy.port());
    const auto r = client.get("/admitted");
    check_echo(r, "GET /admitted HTTP/1.1");
    CHECK(r.header("x-ratelimit-limit") == "5");
    CHECK(r.header("x-ratelimit-remaining") == std::to_string(4 - i));
  }
  for (int i = 0; i < 3; ++i) {
    http_client client(proxy.port());
    const auto r = client.get("/refused");
    check_refused(r, "5");
    CHECK(whole_seconds(r.header("retry-after")) <= 60);
  }
  // A refused request without a body leaves its keep-alive connection usable.
  http_client client(proxy.port());
  check_refused(client.get("/refused-again"), "5");
  check_refused(client.get("/and-again"), "5");

  CHECK(upstream.requests() == 5);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam with gcra admits a burst at once, then one request per emission interval",
          "[loopback][balancebeam]") {
  test_upstream upstream;
  // 60 per minute: one emission interval is 1 s; a burst of 2 admits 3 at once.
  auto proxy = start_balancebeam(
      {upstream.address()}, {"--rate-limit", "gcra", "--max-requests-per-minute", "60", "--rate-limit-burst", "2"});

  http_client client(proxy.port());
  for (int i = 0; i < 3; ++i) {
    const auto r = client.get("/burst");
    check_echo(r, "GET /burst HTTP/1.1");
    CHECK(r.header("x-ratelimit-limit") == "3");
  }
  const auto refused = client.get("/over");
  check_refused(refused, "3");
  CHECK(refused.header("retry-after") == "1");

  // Retry-After is rounded up, so waiting that long is always long enough.
  std::this_thread::sleep_for(std::chrono::seconds(whole_seconds(refused.header("retry-after"))));
  check_echo(client.get("/later"), "GET /later HTTP/1.1");
  CHECK(client.get("/too-soon").status == 429);  // and only one

  CHECK(upstream.requests() == 4);
  stop_cleanly(proxy);
}
