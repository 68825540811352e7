#include "gcra_table.hpp"

#include <bb/limit/gcra.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace {

using bb_test::redis_cell_vector;
using namespace std::chrono_literals;
using ns = std::chrono::nanoseconds;

// An arbitrary epoch: only differences of time matter.
constexpr ns epoch = 1'234'567'891'011ns;

ns ms(std::int64_t v) { return epoch + std::chrono::milliseconds(v); }
std::int64_t ms_to_ns(std::int64_t v) { return v < 0 ? -1 : v * 1'000'000; }

}  // namespace

TEST_CASE("gcra gives redis-cell's answers for every row of its test vector", "[limit][gcra]") {
  const bb::gcra g(4, 1, 1s);
  const auto row = GENERATE(range(0, 15));
  CAPTURE(row);
  bb::gcra::state_type s;
  for (int i = 0; i < row; ++i) g.decide(s, ms(redis_cell_vector[i].at_ms), redis_cell_vector[i].quantity);
  const auto& v = redis_cell_vector[row];
  const bb::rate_decision d = g.decide(s, ms(v.at_ms), v.quantity);
  CHECK(d.allowed == !v.limited);
  CHECK(d.limit == 5);
  CHECK(d.remaining == v.remaining);
  CHECK(d.reset_after_ns == ms_to_ns(v.reset_after_ms));
  CHECK(d.retry_after_ns == ms_to_ns(v.retry_after_ms));
  CHECK(bb::whole_seconds_up(d.reset_after_ns) == v.reset_s);
  CHECK(bb::whole_seconds_up(d.retry_after_ns) == v.retry_s);
}

TEST_CASE("gcra with no burst at one per two seconds matches redis-cell end to end", "[limit][gcra]") {
  const bb::gcra g(0, 1, 2s);
  bb::gcra::state_type s;
  auto reply = [](const bb::rate_decision& d) {
    return std::array<std::int64_t, 5>{d.allowed ? 0 : 1, d.limit, d.remaining, bb::whole_seconds_up(d.retry_after_ns),
                                       bb::whole_seconds_up(d.reset_after_ns)};
  };
  CHECK(reply(g.decide(s, epoch)) == std::array<std::int64_t, 5>{0, 1, 0, -1, 2});
  CHECK(reply(g.decide(s, epoch)) == std::array<std::int64_t, 5>{1, 1, 0, 2, 2});
  CHECK(reply(g.decide(s, epoch + 2s)) == std::array<std::int64_t, 5>{0, 1, 0, -1, 2});
}

TEST_CASE("gcra with a burst of 15 at 30 per minute answers a fresh key as redis-cell does", "[limit][gcra]") {
  const bb::gcra g(15, 30, 60s);
  bb::gcra::state_type s;
  const auto d = g.decide(s, epoch);
  CHECK(d == bb::rate_decision{true, 16, 15, -1, 2'000'000'000});
  CHECK(bb::whole_seconds_up(d.reset_after_ns) == 2);
}

TEST_CASE("gcra refuses once the burst is spent and admits again after retry_after", "[limit][gcra]") {
  const bb::gcra g(2, 10, 1s);  // limit 3, one every 100 ms
  bb::gcra::state_type s;
  for (int i = 0; i < 3; ++i) REQUIRE(g.decide(s, epoch).allowed);
  const auto refused = g.decide(s, epoch + 30ms);
  REQUIRE_FALSE(refused.allowed);
  CHECK(refused.retry_after_ns == 70'000'000);
  CHECK_FALSE(g.decide(s, epoch + 30ms + ns(refused.retry_after_ns - 1)).allowed);
  CHECK(g.decide(s, epoch + 30ms + ns(refused.retry_after_ns)).allowed);
}

TEST_CASE("gcra leaves the state unchanged when it refuses", "[limit][gcra]") {
  const bb::gcra g(1, 1, 1s);
  bb::gcra::state_type s;
  g.decide(s, epoch);
  g.decide(s, epoch);
  const auto before = s;
  CHECK_FALSE(g.decide(s, epoch).allowed);
  CHECK_FALSE(g.decide(s, epoch, 3).allowed);
  CHECK(s == before);
}

TEST_CASE("gcra refuses a quantity over the limit for ever with retry_after -1", "[limit][gcra]") {
  const bb::gcra g(4, 1, 1s);
  bb::gcra::state_type s;
  const auto d = g.decide(s, epoch, 6);
  CHECK(d == bb::rate_decision{false, 5, 5, -1, 0});
  CHECK(s == bb::gcra::state_type{});
}

TEST_CASE("gcra truncates the emission interval to whole nanoseconds", "[limit][gcra]") {
  const bb::gcra g(0, 3, 1s);
  CHECK(g.emission_interval() == 333'333'333ns);
  CHECK(g.tolerance() == 333'333'333ns);
  CHECK(g.limit() == 1);
}

TEST_CASE("gcra state expires at its TAT and then decides like a fresh one", "[limit][gcra]") {
  const bb::gcra g(4, 1, 1s);
  bb::gcra::state_type s, fresh;
  for (int i = 0; i < 3; ++i) g.decide(s, epoch);
  CHECK(g.expires_at(s) == epoch + 3s);
  CHECK(g.expires_at(fresh) == ns::min());
  CHECK(g.decide(s, epoch + 3s) == g.decide(fresh, epoch + 3s));
  CHECK(s == fresh);
}

TEST_CASE("gcra rejects negative arguments and zero rates at construction", "[limit][gcra]") {
  auto [burst, count, period] = GENERATE(table<std::int64_t, std::int64_t, ns>({
      {-1, 1, 1s},
      {0, -1, 1s},
      {0, 1, -1s},
      {0, 0, 1s},
      {0, 1, 0s},
      {0, 2, 1ns},                // an emission interval under 1 ns
      {4'294'967'295, 1, 1s},     // a limit over 32 bits
      {1'000'000, 1, 1'000'000h}  // a tolerance over 64 bits
  }));
  CAPTURE(burst, count, period.count());
  CHECK_THROWS_AS(bb::gcra(burst, count, period), std::invalid_argument);
}
