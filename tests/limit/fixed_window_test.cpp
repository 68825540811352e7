#include <bb/limit/fixed_window.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace {
using namespace std::chrono_literals;
using ns = std::chrono::nanoseconds;
constexpr std::int64_t s_ns = 1'000'000'000;
}  // namespace

TEST_CASE("fixed_window admits 5 then refuses 3 in one minute, the CS110L case", "[limit][fixed_window]") {
  const bb::fixed_window f(5, 60s);
  bb::fixed_window::state_type s;
  // Eight requests one second apart from 10 s into window 0 = [0, 60 s).
  auto [i, allowed, remaining] = GENERATE(table<int, bool, std::uint32_t>({
      {0, true, 4},
      {1, true, 3},
      {2, true, 2},
      {3, true, 1},
      {4, true, 0},
      {5, false, 0},
      {6, false, 0},
      {7, false, 0},
  }));
  CAPTURE(i);
  for (int j = 0; j < i; ++j) f.decide(s, ns((10 + j) * s_ns));
  const auto t = (10 + i) * s_ns;
  const auto d = f.decide(s, ns(t));
  CHECK(d.allowed == allowed);
  CHECK(d.limit == 5);
  CHECK(d.remaining == remaining);
  CHECK(d.reset_after_ns == 60 * s_ns - t);
  CHECK(d.retry_after_ns == (allowed ? -1 : 60 * s_ns - t));
}

TEST_CASE("fixed_window windows are aligned to multiples of W since the epoch", "[limit][fixed_window]") {
  const bb::fixed_window f(2, 60s);
  // Two requests at `first` fill a window; the one at `then` is admitted iff it lies in a later window.
  auto [first, then, admitted, reset_after] = GENERATE(table<std::int64_t, std::int64_t, bool, std::int64_t>({
      {0, 60 * s_ns - 1, false, 1},
      {0, 60 * s_ns, true, 60 * s_ns},
      {59 * s_ns, 60 * s_ns, true, 60 * s_ns},  // one second apart, yet a new window
      {60 * s_ns, 119 * s_ns, false, s_ns},
      {61 * s_ns, 120 * s_ns, true, 60 * s_ns},
      {-1, 0, true, 60 * s_ns},  // windows before the epoch are aligned too: [-60 s, 0)
      {-60 * s_ns, -1, false, 1},
  }));
  CAPTURE(first, then);
  bb::fixed_window::state_type s;
  REQUIRE(f.decide(s, ns(first)).allowed);
  REQUIRE(f.decide(s, ns(first)).allowed);
  const auto d = f.decide(s, ns(then));
  CHECK(d.allowed == admitted);
  CHECK(d.reset_after_ns == reset_after);
  CHECK(d.remaining == (admitted ? 1u : 0u));
}

TEST_CASE("fixed_window lets 2N through across a window edge, as documented", "[limit][fixed_window]") {
  const bb::fixed_window f(3, 60s);
  bb::fixed_window::state_type s;
  int admitted = 0;
  for (int i = 0; i < 3; ++i) admitted += f.decide(s, ns(60 * s_ns - 1)).allowed;
  for (int i = 0; i < 3; ++i) admitted += f.decide(s, ns(60 * s_ns)).allowed;
  CHECK(admitted == 6);
}

TEST_CASE("fixed_window never reopens a window when time steps back", "[limit][fixed_window]") {
  const bb::fixed_window f(1, 60s);
  bb::fixed_window::state_type s;
  REQUIRE(f.decide(s, ns(60 * s_ns)).allowed);
  const auto late = f.decide(s, ns(60 * s_ns - 5));
  CHECK_FALSE(late.allowed);
  CHECK(late.retry_after_ns == 60 * s_ns + 5);
  CHECK(s.window == 1);
}

TEST_CASE("fixed_window state expires at its window's end and then decides like a fresh one", "[limit][fixed_window]") {
  const bb::fixed_window f(2, 10s);
  bb::fixed_window::state_type s, fresh;
  f.decide(s, 12s);
  f.decide(s, 13s);
  CHECK(f.expires_at(s) == 20s);
  CHECK(f.expires_at(fresh) == ns::min());
  CHECK(f.decide(s, 20s) == f.decide(fresh, 20s));
  CHECK(s == fresh);
}

TEST_CASE("fixed_window rejects a zero limit and a non-positive window", "[limit][fixed_window]") {
  CHECK_THROWS_AS(bb::fixed_window(0, 60s), std::invalid_argument);
  CHECK_THROWS_AS(bb::fixed_window(-1, 60s), std::invalid_argument);
  CHECK_THROWS_AS(bb::fixed_window(std::int64_t{1} << 32, 60s), std::invalid_argument);
  CHECK_THROWS_AS(bb::fixed_window(1, 0s), std::invalid_argument);
  CHECK_THROWS_AS(bb::fixed_window(1, -1s), std::invalid_argument);
}
