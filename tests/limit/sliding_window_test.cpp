#include <bb/limit/sliding_window.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace {
using namespace std::chrono_literals;
using ns = std::chrono::nanoseconds;
constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t w_ns = 60 * s_ns;

// A state with `previous` admitted in window 0, then `current` admitted at the start of window 1.
bb::sliding_window::state_type filled(const bb::sliding_window& sw, int previous, int current) {
  bb::sliding_window::state_type s;
  for (int i = 0; i < previous; ++i) REQUIRE(sw.decide(s, ns(s_ns)).allowed);
  for (int i = 0; i < current; ++i) REQUIRE(sw.decide(s, ns(w_ns + s_ns)).allowed);
  return s;
}
}  // namespace

TEST_CASE("sliding_window admits what the weighted previous window leaves, at interpolation points",
          "[limit][sliding_window]") {
  const bb::sliding_window sw(10, 60s);
  // Window 0 admitted `previous`; at `elapsed` into window 1 a burst finds
  // carried = floor(previous * (60 s - elapsed) / 60 s) and admits N - carried.
  auto [previous, elapsed, admitted] = GENERATE(table<int, std::int64_t, int>({
      {10, 0, 0},
      {10, 1, 1},  // 10 * (W - 1 ns) / W = 9.99...: carried 9
      {10, 6 * s_ns, 1},
      {10, 6 * s_ns + 1, 2},
      {10, 15 * s_ns, 3},  // 7.5 -> 7
      {10, 30 * s_ns, 5},
      {10, 54 * s_ns, 9},
      {10, w_ns - 6 * s_ns - 1, 9},
      {10, w_ns - 1, 10},
      {4, 0, 6},
      {4, 15 * s_ns, 7},  // 3.0 -> 3
      {4, 15 * s_ns + 1, 8},
      {4, 45 * s_ns, 9},
      {0, 0, 10},
  }));
  CAPTURE(previous, elapsed);
  auto s = filled(sw, previous, 0);
  const ns t(w_ns + elapsed);
  int n = 0;
  for (int i = 0; i < 20; ++i) {
    const auto d = sw.decide(s, t);
    if (!d.allowed) break;
    ++n;
    CHECK(d.remaining == static_cast<std::uint32_t>(admitted - n));
  }
  CHECK(n == admitted);
}

TEST_CASE("sliding_window answers exactly at the window edges", "[limit][sliding_window]") {
  const bb::sliding_window sw(10, 60s);
  // `previous` admitted in window 0, then `current` at `current_at` into window 1; then one
  // request at `t`, and when it is refused, one just before and one at its retry_after.
  auto [previous, current, current_at, t, allowed, remaining, retry_after, reset_after] =
      GENERATE(table<int, int, std::int64_t, std::int64_t, bool, std::uint32_t, std::int64_t, std::int64_t>({
          {10, 0, 0, w_ns, false, 0, 1, w_ns},  // the estimate is exactly N; 1 ns later it is under
          {10, 0, 0, w_ns + 1, true, 0, -1, 2 * w_ns - 1},
          {0, 10, s_ns, w_ns + 2 * s_ns, false, 0, w_ns - 2 * s_ns + 1, 2 * w_ns - 2 * s_ns},
          {0, 10, s_ns, 2 * w_ns, false, 0, 1, w_ns},  // window 2 carries all of window 1
          {0, 10, s_ns, 2 * w_ns + 1, true, 0, -1, 2 * w_ns - 1},
          {0, 10, s_ns, 3 * w_ns, true, 9, -1, 2 * w_ns},  // window 1 no longer counts
          {10, 0, 0, 3 * w_ns, true, 9, -1, 2 * w_ns},
          // 15 s in, 7 are carried and 3 current: refused until 10 * (W - e) < 7 * W, e = 18 s + 1 ns.
          {10, 3, 15 * s_ns, w_ns + 15 * s_ns, false, 0, 3 * s_ns + 1, 2 * w_ns - 15 * s_ns},
      }));
  CAPTURE(previous, current, t);
  bb::sliding_window::state_type s;
  for (int i = 0; i < previous; ++i) REQUIRE(sw.decide(s, ns(s_ns)).allowed);
  for (int i = 0; i < current; ++i) REQUIRE(sw.decide(s, ns(w_ns + current_at)).allowed);
  const auto d = sw.decide(s, ns(t));
  CHECK(d.allowed == allowed);
  CHECK(d.limit == 10);
  CHECK(d.remaining == remaining);
  CHECK(d.retry_after_ns == retry_after);
  CHECK(d.reset_after_ns == reset_after);
  if (!allowed) {
    CHECK_FALSE(sw.decide(s, ns(t + retry_after - 1)).allowed);
    CHECK(sw.decide(s, ns(t + retry_after)).allowed);
  }
}

TEST_CASE("sliding_window takes a time before its window as the window's start", "[limit][sliding_window]") {
  const bb::sliding_window sw(2, 60s);
  auto s = filled(sw, 2, 0);
  REQUIRE_FALSE(sw.decide(s, ns(w_ns)).allowed);  // the state moves to window 1
  const auto d = sw.decide(s, ns(w_ns - 5));      // late: window 0's time, window 1's state
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_ns == 5 + 1);
  CHECK(s.window == 1);
}

TEST_CASE("sliding_window state expires once both windows weigh nothing", "[limit][sliding_window]") {
  const bb::sliding_window sw(5, 10s);
  bb::sliding_window::state_type s, fresh;
  CHECK(sw.expires_at(fresh) == ns::min());
  sw.decide(s, 12s);
  CHECK(sw.expires_at(s) == 30s);
  auto copy = s;
  CHECK(sw.decide(copy, 29s).reset_after_ns == 11 * s_ns);  // admitted in window 2: lives to 40 s
  CHECK(sw.decide(s, 30s) == sw.decide(fresh, 30s));
}

TEST_CASE("sliding_window rejects a zero limit and a non-positive window", "[limit][sliding_window]") {
  CHECK_THROWS_AS(bb::sliding_window(0, 60s), std::invalid_argument);
  CHECK_THROWS_AS(bb::sliding_window(-3, 60s), std::invalid_argument);
  CHECK_THROWS_AS(bb::sliding_window(1, 0s), std::invalid_argument);
}
