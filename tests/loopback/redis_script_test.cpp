// The rate-limit scripts on a real redis-server, with the time fed in: GCRA answers
// redis-cell's test vector (the table the in-memory gcra answers too), and the two windows
// answer exactly as their C++ algorithms over long seeded runs; keys expire when their
// state stops mattering, and a refusal leaves the key as it was.

#include "../limit/gcra_table.hpp"
#include "redis_server.hpp"

#include <bb/core/random.hpp>
#include <bb/limit/fixed_window.hpp>
#include <bb/limit/gcra.hpp>
#include <bb/limit/redis_scripts.hpp>
#include <bb/limit/sliding_window.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace bb_test;
using namespace std::chrono_literals;

namespace {

// Some instant in 2026, in microseconds since 1970: the scripts' arithmetic must be exact there.
constexpr std::int64_t base_us = 1'796'400'000'000'000;

/// One call of the script for `algorithm` at `now_us` (quantity for GCRA), as the proxy
/// sends it but with the time fed in.
bb::redis::reply run_script(redis_connection& c, bb::rate_limit_algorithm algorithm, const std::string& key,
                            const bb::redis_script_params& p, std::int64_t now_us, std::int64_t quantity = 1) {
  std::string cmd;
  bb::append_script_call(cmd, true, bb::redis_script(algorithm), key, p, quantity, now_us);
  return c.call_raw(cmd);
}

/// The five figures of a reply, or of a C++ decision in the same units.
std::vector<std::int64_t> figures(const bb::redis::reply& r) {
  std::vector<std::int64_t> v;
  for (const auto& e : r.elements) v.push_back(e.integer);
  return v;
}
std::vector<std::int64_t> figures(const bb::rate_decision& d) {
  return {d.allowed ? 1 : 0, d.limit, d.remaining, d.retry_after_ns, d.reset_after_ns};
}

}  // namespace

TEST_CASE("redis gcra script answers redis-cell's test vector, the table the in-memory gcra answers",
          "[loopback][redis][script]") {
  redis_server redis;
  redis_connection c(redis.port());
  const bb::redis_script_params p{1'000'000, 5};  // one per second (in microseconds), max_burst 4
  const std::string key = "bb:test:gcra";
  for (std::size_t i = 0; i < std::size(redis_cell_vector); ++i) {
    const auto& v = redis_cell_vector[i];
    CAPTURE(i);
    const auto before = c.call({"GET", key});
    const auto r = run_script(c, bb::rate_limit_algorithm::gcra, key, p, base_us + v.at_ms * 1000, v.quantity);
    REQUIRE(r.type == bb::redis::reply::kind::array);
    const auto d = bb::decision_of(r);
    REQUIRE(d);
    CHECK(d->allowed == !v.limited);
    CHECK(d->limit == 5);
    CHECK(d->remaining == v.remaining);
    CHECK(d->reset_after_ns == v.reset_after_ms * 1'000'000);
    CHECK(d->retry_after_ns == (v.retry_after_ms < 0 ? -1 : v.retry_after_ms * 1'000'000));
    CHECK(bb::whole_seconds_up(d->reset_after_ns) == v.reset_s);
    CHECK(bb::whole_seconds_up(d->retry_after_ns) == v.retry_s);
    if (v.limited) CHECK(c.call({"GET", key}) == before);  // a refusal changes nothing
  }
  // The key holds the TAT (9.5 s + 3 s) and expires with it.
  CHECK(c.call({"GET", key}).str == std::to_string(base_us + 12'500'000));
  const auto ttl = c.call({"PTTL", key}).integer;
  CHECK(ttl > 2000);
  CHECK(ttl <= 3000);
}

TEST_CASE("redis window scripts answer exactly as the C++ algorithms over a long seeded run",
          "[loopback][redis][script]") {
  const auto algorithm = GENERATE(bb::rate_limit_algorithm::fixed_window, bb::rate_limit_algorithm::sliding_window);
  const std::uint64_t seed = GENERATE(1u, 2u);
  CAPTURE(static_cast<int>(algorithm), seed);
  redis_server redis;
  redis_connection c(redis.port());
  constexpr std::int64_t window_us = 10'000'000, limit = 7;
  const bb::redis_script_params p{limit, window_us};
  // The C++ algorithm with the microsecond as its unit, as the script counts.
  const bb::fixed_window fixed(limit, std::chrono::nanoseconds(window_us));
  const bb::sliding_window sliding(limit, std::chrono::nanoseconds(window_us));
  bb::fixed_window::state_type fs;
  bb::sliding_window::state_type ss;
  bb::rng random(seed);
  std::int64_t now = base_us;
  const std::string key = "bb:test:window";
  for (int i = 0; i < 400; ++i) {
    // Gaps from 0 to 1.5 s, sometimes a jump over a window or two; never within 1 s of a
    // window's end, so that Redis's real-time expiry (in milliseconds) cannot overtake
    // the fed time of a test that runs in a fraction of it.
    do {
      now += random.chance(0.05) ? static_cast<std::int64_t>(random.below(25'000'000))
                                 : static_cast<std::int64_t>(random.below(1'500'000));
    } while (window_us - now % window_us < 1'000'000);
    CAPTURE(i, now);
    const auto r = run_script(c, algorithm, key, p, now);
    const auto expected = algorithm == bb::rate_limit_algorithm::fixed_window
                              ? fixed.decide(fs, std::chrono::nanoseconds(now))
                              : sliding.decide(ss, std::chrono::nanoseconds(now));
    REQUIRE(figures(r) == figures(expected));
  }
}

TEST_CASE("redis scripts use Redis TIME when no time is fed in, and set the key's expiry",
          "[loopback][redis][script]") {
  redis_server redis;
  redis_connection c(redis.port());
  const auto algorithm = GENERATE(bb::rate_limit_algorithm::fixed_window, bb::rate_limit_algorithm::sliding_window,
                                  bb::rate_limit_algorithm::gcra);
  CAPTURE(static_cast<int>(algorithm));
  bb::rate_limit_config cfg;
  cfg.limit = 3;
  cfg.algorithm = algorithm;
  const auto p = bb::redis_script_params::of(cfg);
  const std::string key = "bb:test:" + std::string(bb::redis_key_word(algorithm));
  std::vector<bool> admitted;
  for (int i = 0; i < 4; ++i) {
    std::string cmd;
    bb::append_script_call(cmd, true, bb::redis_script(algorithm), key, p);
    const auto d = bb::decision_of(c.call_raw(cmd));
    REQUIRE(d);
    admitted.push_back(d->allowed);
  }
  // Three at once, unless a fixed or sliding window happened to turn over in between.
  CHECK(std::count(admitted.begin(), admitted.end(), true) >= 3);
  const auto ttl = c.call({"PTTL", key}).integer;
  CHECK(ttl > 0);
  CHECK(ttl <= 2 * 60'000);
}
