#pragma once
/// bb::memory_store<Algorithm>: every client's limiter state in this process's memory,
/// shared by all worker threads, and the in-memory side of the rate_limiter seam.
///
/// The seam, decided here: the proxy calls `co_await limiter.decide(key, now)`, and
/// `decide` returns an awaitable (the rate_limiter concept, limiter.hpp). This store
/// answers at once, so its `decide` returns bb::ready<rate_decision>, which `co_await`
/// takes without suspending, allocating or rescheduling; tests and benchmarks call
/// `decide_now`, the same decision as a plain value. A later Redis-backed store (one key
/// per client holding the GCRA TAT, the decision in one Lua script, Redis TIME as the
/// clock) returns a task<rate_decision> from its `decide` and the proxy does not change.
/// Every algorithm keeps its per-client state in a small trivially copyable struct, so
/// that store can keep the same states remotely.
///
/// Concurrency: the keys are spread over N shards (hash % N), each a flat open-addressing
/// table behind its own spinlock held for one decision (tens of nanoseconds). There is
/// no global lock; two threads contend only when their clients share a shard.
///
/// Memory: a client costs one slot while its state matters and nothing after. Decisions
/// also sweep their shard a run of slots at a time (see sweep_chunk), erasing expired
/// states; a table about to grow first drops its expired entries, and a table found
/// mostly empty when the sweep wraps is rebuilt at twice its live entries. So memory
/// follows the clients active within one expiry horizon, and returns with light traffic
/// alone; `sweep(now)` does a whole pass at once for a driver that wants memory back
/// without any traffic (e.g. from a timer once a window).

#include <algorithm>
#include <bb/core/client_key.hpp>
#include <bb/core/detail/spinlock.hpp>
#include <bb/limit/algorithm.hpp>
#include <bb/limit/decision.hpp>
#include <bb/limit/detail/key_table.hpp>
#include <bb/limit/limiter.hpp>
#include <bb/limit/ready.hpp>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace bb {

/// One Algorithm applied per client key, with states kept in sharded in-process tables.
template <rate_algorithm Algorithm>
class memory_store {
public:
  using state_type = typename Algorithm::state_type;

  /// A store deciding with `algorithm` over `shard_count` shards (rounded up to a power of
  /// two; about four per worker thread keeps lock contention rare). `seed` salts the key
  /// hash: pass a random one so that where an address lands cannot be worked out offline
  /// (the mix is fast, not cryptographic).
  explicit memory_store(Algorithm algorithm, std::size_t shard_count = 64, std::uint64_t seed = 0)
      : algorithm_(std::move(algorithm)),
        shard_count_(std::bit_ceil(std::max<std::size_t>(shard_count, 1))),
        seed_(seed),
        shards_(std::make_unique<shard[]>(shard_count_)) {
    for (std::size_t i = 0; i < shard_count_; ++i) shards_[i].table = detail::key_table<state_type>(seed_);
  }

  /// Decides one request of client `key` at `now` (the caller's clock's time_since_epoch)
  /// and returns the decision as a plain value. Safe from any thread.
  rate_decision decide_now(const client_key& key, std::chrono::nanoseconds now) {
    const std::uint64_t h = detail::hash_key(key, seed_);
    shard& s = shards_[h & (shard_count_ - 1)];
    auto expired = [&](const state_type& st) { return algorithm_.expires_at(st) <= now; };
    std::lock_guard lock(s.lock);
    auto& entry = s.table.find_or_insert(key, h, expired);
    const rate_decision d = algorithm_.decide(entry.state, now);
    if (expired(entry.state)) s.table.erase(entry);
    if (++s.since_sweep >= sweep_every || now.count() >= s.next_sweep_ns) {
      s.since_sweep = 0;
      s.next_sweep_ns = now.count() + sweep_interval.count();
      s.table.sweep_some(sweep_chunk, expired);
    }
    return d;
  }

  /// decide_now as an always-ready awaitable: the rate_limiter seam.
  ready<rate_decision> decide(const client_key& key, std::chrono::nanoseconds now) { return {decide_now(key, now)}; }

  /// Erases every state expired at `now` and shrinks mostly empty shards; returns how many
  /// states were reclaimed. Takes one shard lock at a time.
  std::size_t sweep(std::chrono::nanoseconds now) {
    auto expired = [&](const state_type& st) { return algorithm_.expires_at(st) <= now; };
    std::size_t reclaimed = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      std::lock_guard lock(shards_[i].lock);
      reclaimed += shards_[i].table.sweep_all(expired);
    }
    return reclaimed;
  }

  /// Client states held, including expired ones not reclaimed yet.
  std::size_t size() const {
    return sum([](const auto& t) { return t.size(); });
  }

  /// Bytes this store holds: its shards and their slot arrays.
  std::size_t memory_bytes() const {
    return sizeof(*this) + shard_count_ * sizeof(shard) + sum([](const auto& t) { return t.memory_bytes(); });
  }

  /// The algorithm every decision applies.
  const Algorithm& algorithm() const noexcept { return algorithm_; }

  /// A shard sweeps `sweep_chunk` slots for expired states every `sweep_every` decisions,
  /// or at its first decision once `sweep_interval` has passed since its last sweep: cheap
  /// under heavy traffic (a fraction of a slot per decision, in one contiguous run rather
  /// than a cold cache line each time) and still thorough under light traffic.
  static constexpr std::size_t sweep_chunk = 32;
  static constexpr std::uint32_t sweep_every = 256;
  static constexpr std::chrono::nanoseconds sweep_interval = std::chrono::milliseconds(10);

private:
  // NOTE: one cache line per shard, so that threads on neighbouring shards do not share one.
  struct alignas(64) shard {
    mutable detail::spinlock lock;
    std::uint32_t since_sweep = 0;  // decisions since the last sweep
    std::int64_t next_sweep_ns = 0;
    detail::key_table<state_type> table;
  };

  template <class F>
  std::size_t sum(F f) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      std::lock_guard lock(shards_[i].lock);
      n += f(shards_[i].table);
    }
    return n;
  }

  Algorithm algorithm_;
  std::size_t shard_count_;
  std::uint64_t seed_;
  std::unique_ptr<shard[]> shards_;
};

}  // namespace bb
