// Reconnection: backoff that doubles within its jitter, a breaker that opens after N
// consecutive failures and closes when a probe connects.

#include <bb/redis/breaker.hpp>
#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using bb::redis::breaker;

TEST_CASE("redis breaker backs off doubling, with jitter between half and all of it", "[redis][breaker]") {
  const auto seed = GENERATE(1u, 2u, 3u, 4u);
  CAPTURE(seed);
  bb::rng random(seed);
  breaker b({.threshold = 10, .open_for = 1s, .backoff_min = 10ms, .backoff_max = 100ms});
  const std::chrono::nanoseconds full[] = {10ms, 20ms, 40ms, 80ms, 100ms, 100ms};
  std::chrono::nanoseconds now = 5s;
  for (auto f : full) {
    CHECK(b.failure(now, random) == breaker::outcome::retry);
    CHECK(b.retry_at() - now >= f / 2);
    CHECK(b.retry_at() - now <= f);
    now = b.retry_at();
  }
  CHECK_FALSE(b.open());
}

TEST_CASE("redis breaker opens after its threshold, stays open on a failed probe, closes on success",
          "[redis][breaker]") {
  bb::rng random(1);
  breaker b({.threshold = 3, .open_for = 2s, .backoff_min = 10ms, .backoff_max = 100ms});
  CHECK(b.failure(0s, random) == breaker::outcome::retry);
  CHECK(b.failure(1s, random) == breaker::outcome::retry);
  CHECK(b.failure(2s, random) == breaker::outcome::opened);
  CHECK(b.open());
  CHECK(b.retry_at() == 4s);
  CHECK(b.failure(4s, random) == breaker::outcome::still_open);  // the probe failed
  CHECK(b.retry_at() == 6s);
  CHECK(b.success());  // the next probe connected: closed
  CHECK_FALSE(b.open());
  CHECK(b.failures() == 0);
  CHECK_FALSE(b.success());
}
