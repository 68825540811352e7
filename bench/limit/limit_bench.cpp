// bb_limit_bench: how fast the in-memory limiters decide, alone and with every core
// contending, and what a tracked client costs in memory. Prints figures; asserts nothing.

#include <algorithm>
#include <atomic>
#include <bb/limit/fixed_window.hpp>
#include <bb/limit/gcra.hpp>
#include <bb/limit/sliding_window.hpp>
#include <bb/limit/store.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ns = std::chrono::nanoseconds;
using wall = std::chrono::steady_clock;

bb::client_key key_of(std::uint32_t i) {
  return bb::client_key_of(bb::ip_address::v4(static_cast<std::uint8_t>(i >> 24), static_cast<std::uint8_t>(i >> 16),
                                              static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)));
}

// The client of a thread's i-th request: a Weyl sequence over the clients, spread like
// random draws but computed in a few cycles and without a table that would take cache.
std::uint32_t client_of(std::uint64_t i, std::uint64_t stream, std::uint32_t clients) {
  return static_cast<std::uint32_t>(((i + stream * 0x632be59bd9b4e019) * 0x9e3779b97f4a7c15 >> 32) % clients);
}

// Resident set size in bytes, from /proc (Linux); 0 where unavailable.
std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * 4096;
}

volatile std::uint32_t sink;  // keeps the decisions from being optimised away

// Decisions per second by `threads` threads deciding over `clients` clients, 1 us of
// simulated time per request and thread.
template <class Algorithm>
double store_rate(const Algorithm& algorithm, std::uint32_t clients, unsigned threads, std::size_t per_thread) {
  bb::memory_store store(algorithm, 64, 0x5eed);
  for (std::uint32_t i = 0; i < clients; ++i) store.decide_now(key_of(i), 0s);  // warm: every client tracked
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      ++ready;
      while (!go.load()) std::this_thread::yield();
      std::uint32_t admitted = 0;
      for (std::size_t i = 0; i < per_thread; ++i)
        admitted +=
            store.decide_now(key_of(client_of(i, t, clients)), ns(1'000'000'000 + std::int64_t(i) * 1000)).allowed;
      sink = admitted;
    });
  while (ready.load() < threads) std::this_thread::yield();
  const auto start = wall::now();
  go = true;
  for (auto& w : workers) w.join();
  const double seconds = std::chrono::duration<double>(wall::now() - start).count();
  return double(per_thread) * threads / seconds;
}

// Decisions per second of the bare algorithm over 4096 states (64 KB or less, in cache):
// the floor under the store.
template <class Algorithm>
double algorithm_rate(const Algorithm& algorithm, std::size_t n) {
  std::vector<typename Algorithm::state_type> states(4096);
  std::uint32_t admitted = 0;
  const auto start = wall::now();
  for (std::size_t i = 0; i < n; ++i) {
    // Use every figure, or the compiler drops the work behind the unused ones.
    const auto d = algorithm.decide(states[client_of(i, 0, 4096)], ns(std::int64_t(i) * 1000));
    admitted += d.allowed + d.remaining + static_cast<std::uint32_t>(d.retry_after_ns ^ d.reset_after_ns);
  }
  const double seconds = std::chrono::duration<double>(wall::now() - start).count();
  sink = admitted;
  return double(n) / seconds;
}

// Bytes per tracked client after `clients` distinct clients, and what is left once they are idle.
template <class Algorithm>
void memory(const char* name, const Algorithm& algorithm, std::uint32_t clients, ns idle_after) {
  const std::size_t rss_before = rss_bytes();
  bb::memory_store store(algorithm, 64, 0x5eed);
  const std::size_t empty = store.memory_bytes();
  for (std::uint32_t i = 0; i < clients; ++i) store.decide_now(key_of(i), ns(i));
  const std::size_t full = store.memory_bytes();
  const std::size_t rss_full = rss_bytes();
  const std::size_t reclaimed = store.sweep(ns(clients) + idle_after);
  std::printf(
      "  %-15s %7.1f B/client (store), %7.1f B/client (RSS); after idle: %zu clients, %zu B (store; %zu B empty), "
      "%zu reclaimed\n",
      name, double(full - empty) / clients, double(rss_full - rss_before) / clients, store.size(), store.memory_bytes(),
      empty, reclaimed);
}

// The best of three runs: on a shared machine the slowest runs measure the neighbours.
template <class F>
double best_of_3(F f) {
  double best = 0;
  for (int i = 0; i < 3; ++i) best = std::max(best, f());
  return best;
}

template <class Algorithm>
void speed(const char* name, const Algorithm& a, unsigned cores) {
  constexpr std::size_t n = 10'000'000;
  const double alone = best_of_3([&] { return algorithm_rate(a, n); });
  const double hot1 = best_of_3([&] { return store_rate(a, 10'000, 1, n); });
  const double cold1 = best_of_3([&] { return store_rate(a, 1'000'000, 1, n); });
  const double hot_all = best_of_3([&] { return store_rate(a, 10'000, cores, n / cores); });
  const double cold_all = best_of_3([&] { return store_rate(a, 1'000'000, cores, n / cores); });
  std::printf(
      "  %-15s %7.1f M/s alone | store, 1 thread: %6.1f M/s (10k clients) %6.1f M/s (1M clients) | "
      "store, %u threads: %6.1f M/s (10k clients) %6.1f M/s (1M clients)\n",
      name, alone / 1e6, hot1 / 1e6, cold1 / 1e6, cores, hot_all / 1e6, cold_all / 1e6);
}

}  // namespace

int main() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const bb::fixed_window fixed(100, 60s);
  const bb::sliding_window sliding(100, 60s);
  const bb::gcra gcra(99, 100, 60s);
  // Memory first, while the heap is fresh, so that the RSS growth is the store's.
  std::printf("memory per tracked client (1,000,000 distinct IPv4 clients, one request each)\n");
  memory("gcra", gcra, 1'000'000, 61s);
  memory("fixed_window", fixed, 1'000'000, 61s);
  memory("sliding_window", sliding, 1'000'000, 121s);
  std::printf(
      "decisions per second, best of 3 (100 per minute per client; 1 us between a thread's requests; %u cores)\n",
      cores);
  speed("fixed_window", fixed, cores);
  speed("sliding_window", sliding, cores);
  speed("gcra", gcra, cores);
  std::printf(
      "slot sizes: gcra %zu B, fixed_window %zu B, sliding_window %zu B; a table is rebuilt 50%% full when it would "
      "pass 75%% or drops under 12.5%%\n",
      sizeof(bb::client_key) + sizeof(bb::gcra::state_type),
      sizeof(bb::client_key) + sizeof(bb::fixed_window::state_type),
      sizeof(bb::client_key) + sizeof(bb::sliding_window::state_type));
}
