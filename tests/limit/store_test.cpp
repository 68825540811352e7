#include <atomic>
#include <barrier>
#include <bb/core/random.hpp>
#include <bb/core/sync_wait.hpp>
#include <bb/core/task.hpp>
#include <bb/limit/memory_limiter.hpp>
#include <bb/limit/store.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <thread>
#include <vector>

namespace {
using namespace std::chrono_literals;
using ns = std::chrono::nanoseconds;

bb::client_key v4_key(std::uint32_t i) {
  return bb::client_key_of(bb::ip_address::v4(static_cast<std::uint8_t>(i >> 24), static_cast<std::uint8_t>(i >> 16),
                                              static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)));
}
}  // namespace

TEST_CASE("memory_store keeps one limit per client key", "[limit][store]") {
  bb::memory_store store(bb::fixed_window(5, 60s), 4);
  const auto a = v4_key(1), b = v4_key(2);
  int admitted_a = 0, admitted_b = 0;
  for (int i = 0; i < 8; ++i) admitted_a += store.decide_now(a, 10s).allowed;
  for (int i = 0; i < 2; ++i) admitted_b += store.decide_now(b, 10s).allowed;
  CHECK(admitted_a == 5);
  CHECK(admitted_b == 2);
  CHECK(store.size() == 2);
  CHECK(store.decide_now(a, 60s).allowed);
}

TEST_CASE("memory_store counts every address of one IPv6 /64 as one client", "[limit][store]") {
  bb::memory_store store(bb::gcra(1, 1, 1s));
  const auto x = bb::client_key_of(*bb::ip_address::parse("2001:db8:0:1::1"));
  const auto y = bb::client_key_of(*bb::ip_address::parse("2001:db8:0:1:dead:beef::2"));
  const auto z = bb::client_key_of(*bb::ip_address::parse("2001:db8:0:2::1"));
  CHECK(store.decide_now(x, 0s).allowed);
  CHECK(store.decide_now(y, 0s).allowed);
  CHECK_FALSE(store.decide_now(x, 0s).allowed);
  CHECK(store.decide_now(z, 0s).allowed);
}

TEST_CASE("memory_store stores nothing for a request that leaves the state fresh", "[limit][store]") {
  bb::memory_store store(bb::gcra(4, 1, 1s));
  const auto d = store.decide_now(v4_key(7), 5s);  // quantity 1: stored
  CHECK(d.allowed);
  CHECK(store.size() == 1);
  CHECK(store.sweep(6s) == 1);
  CHECK(store.size() == 0);
}

TEMPLATE_TEST_CASE("memory_store answers exactly as states that are never reclaimed would", "[limit][store]",
                   bb::fixed_window, bb::sliding_window, bb::gcra) {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  CAPTURE(seed);
  auto algorithm = [] {
    if constexpr (std::is_same_v<TestType, bb::gcra>) return bb::gcra(2, 5, 1s);
    else return TestType(5, 1s);
  }();
  bb::memory_store store(algorithm, 4, seed);
  std::map<std::uint32_t, typename TestType::state_type> reference;
  bb::rng r(seed);
  ns now = 1000s;
  for (int i = 0; i < 200'000; ++i) {
    // Mostly short gaps, sometimes long enough for states to expire, once in a while a sweep.
    now += r.below(8) == 0 ? ns(r.below(3'000'000'000)) : ns(r.below(20'000'000));
    const auto client = static_cast<std::uint32_t>(r.below(300));
    const auto expected = algorithm.decide(reference[client], now);
    REQUIRE(store.decide_now(v4_key(client), now) == expected);
    if (r.below(10'000) == 0) store.sweep(now);
  }
}

TEST_CASE("memory_store reclaims a million idle clients by sweep", "[limit][store]") {
  bb::memory_store store(bb::gcra(9, 10, 60s));
  const std::size_t empty_bytes = store.memory_bytes();
  constexpr std::uint32_t clients = 1'000'000;
  for (std::uint32_t i = 0; i < clients; ++i) REQUIRE(store.decide_now(v4_key(i), ns(i)).allowed);
  CHECK(store.size() == clients);
  const std::size_t full_bytes = store.memory_bytes();
  CAPTURE(empty_bytes, full_bytes);
  CHECK(full_bytes - empty_bytes <= 64 * std::size_t{clients});
  // Each TAT lies 6 s after its request; 7 s after the last one all are spent.
  CHECK(store.sweep(7s) == clients);
  CHECK(store.size() == 0);
  CHECK(store.memory_bytes() == empty_bytes);
}

TEST_CASE("memory_store reclaims idle clients through later traffic alone", "[limit][store]") {
  bb::memory_store store(bb::fixed_window(100, 60s));
  const std::size_t empty_bytes = store.memory_bytes();
  constexpr std::uint32_t clients = 1'000'000;
  for (std::uint32_t i = 0; i < clients; ++i) store.decide_now(v4_key(i), 1s);
  const std::size_t full_bytes = store.memory_bytes();
  // The next minute, 1000 other clients send 100,000 requests a second for 20 s between
  // them: decisions sweep their shards a run at a time, and mostly empty shards are
  // rebuilt small.
  for (std::int64_t n = 0; n < 2'000'000; ++n)
    store.decide_now(v4_key(clients + static_cast<std::uint32_t>(n % 1000)), 61s + n * 10us);
  CAPTURE(empty_bytes, full_bytes, store.memory_bytes());
  CHECK(store.size() == 1000);
  CHECK(store.memory_bytes() < empty_bytes + 1000 * 256);
}

TEST_CASE("memory_store drops expired clients before it grows", "[limit][store]") {
  bb::memory_store store(bb::sliding_window(10, 1s));
  constexpr std::uint32_t clients = 200'000;
  for (std::uint32_t i = 0; i < clients; ++i) store.decide_now(v4_key(i), 0s);
  const std::size_t first = store.memory_bytes();
  for (int generation = 1; generation < 10; ++generation)
    for (std::uint32_t i = 0; i < clients; ++i) store.decide_now(v4_key(generation * clients + i), ns(generation * 2s));
  CAPTURE(first, store.memory_bytes());
  CHECK(store.size() <= 2 * std::size_t{clients});
  CHECK(store.memory_bytes() <= first * 3 / 2);
}

TEMPLATE_TEST_CASE("memory_store never admits more than N per key per window from many threads", "[limit][store]",
                   bb::fixed_window, bb::sliding_window, bb::gcra) {
  constexpr std::uint32_t n = 50;
  constexpr ns window = 1s;
  auto algorithm = [] {
    if constexpr (std::is_same_v<TestType, bb::gcra>) return bb::gcra(n - 1, n, window);
    else return TestType(n, window);
  }();
  bb::memory_store store(algorithm, 8);
  const int threads = static_cast<int>(std::max(4u, std::thread::hardware_concurrency()));
  constexpr int keys = 64, phases = 20, tries = 30;  // threads * tries > n attempts per key and phase
  std::vector<std::atomic<int>> admitted(keys * phases);
  std::barrier sync(threads);
  std::vector<std::thread> workers;
  for (int id = 0; id < threads; ++id)
    workers.emplace_back([&] {
      for (int phase = 0; phase < phases; ++phase) {
        // Phases two windows apart, so the sliding window carries nothing into the next one;
        // one instant per phase, so the exact answer is N for every algorithm (time that
        // steps back between threads is the unit tests' business).
        const ns now = phase * 2 * window;
        for (int t = 0; t < tries; ++t)
          for (int k = 0; k < keys; ++k)
            if (store.decide_now(v4_key(static_cast<std::uint32_t>(k)), now).allowed)
              admitted[phase * keys + k].fetch_add(1, std::memory_order_relaxed);
        sync.arrive_and_wait();
      }
    });
  for (auto& w : workers) w.join();
  for (int i = 0; i < keys * phases; ++i) {
    CAPTURE(threads, i / keys, i % keys);
    CHECK(admitted[i].load() == static_cast<int>(n));
  }
}

TEST_CASE("memory_limiter applies the algorithm its configuration names", "[limit][store]") {
  auto [algorithm, admitted_in_burst] = GENERATE(table<bb::rate_limit_algorithm, int>({
      {bb::rate_limit_algorithm::fixed_window, 5},
      {bb::rate_limit_algorithm::sliding_window, 5},
      {bb::rate_limit_algorithm::gcra, 3},  // burst 2: limit 3
  }));
  bb::memory_limiter limiter(algorithm, 5, 60s, 2);
  int n = 0;
  for (int i = 0; i < 10; ++i) n += limiter.decide_now(v4_key(1), 1s).allowed;
  CHECK(n == admitted_in_burst);
  CHECK(limiter.size() == 1);
  CHECK(limiter.sweep(200s) == 1);
  CHECK_THROWS_AS(bb::memory_limiter(algorithm, 0, 60s, 0), std::invalid_argument);
}

TEST_CASE("memory_limiter answers co_await at once, as the proxy will ask it", "[limit][store]") {
  bb::memory_limiter limiter(bb::rate_limit_algorithm::gcra, 1, 2s, 0);
  auto ask = [&]() -> bb::task<bb::rate_decision> { co_return co_await limiter.decide(v4_key(9), 1s); };
  CHECK(bb::sync_wait(ask()) == bb::rate_decision{true, 1, 0, -1, 2'000'000'000});
  CHECK(bb::sync_wait(ask()) == bb::rate_decision{false, 1, 0, 2'000'000'000, 2'000'000'000});
}
