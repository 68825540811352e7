#pragma once
/// bb::memory_limiter: the in-memory rate limiter with its algorithm chosen at start-up
/// (`--rate-limit fixed-window|sliding-window|gcra`), what the proxy holds.

#include <bb/core/client_key.hpp>
#include <bb/limit/decision.hpp>
#include <bb/limit/fixed_window.hpp>
#include <bb/limit/gcra.hpp>
#include <bb/limit/limiter.hpp>
#include <bb/limit/ready.hpp>
#include <bb/limit/sliding_window.hpp>
#include <bb/limit/store.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <variant>

namespace bb {

/// A memory_store of whichever algorithm the configuration names, behind one interface.
class memory_limiter {
public:
  /// `limit` requests per `window` for each client; gcra admits bursts of `burst` more
  /// than one (its limit is burst + 1; the CLI's default burst is limit - 1) and refills
  /// one every window / limit. Throws std::invalid_argument for a limit of 0 (unlimited
  /// means no limiter) or any other parameter the algorithm rejects.
  memory_limiter(rate_limit_algorithm algorithm, std::int64_t limit, std::chrono::nanoseconds window,
                 std::int64_t burst, std::size_t shard_count = 64, std::uint64_t seed = 0)
      : store_(make(algorithm, limit, window, burst, shard_count, seed)) {}

  /// Decides one request of client `key` at `now`; always ready (the rate_limiter seam).
  ready<rate_decision> decide(const client_key& key, std::chrono::nanoseconds now) { return {decide_now(key, now)}; }

  /// The same decision as a plain value.
  rate_decision decide_now(const client_key& key, std::chrono::nanoseconds now) {
    return std::visit([&](auto& s) { return s.decide_now(key, now); }, store_);
  }

  /// Reclaims every state expired at `now`; returns how many.
  std::size_t sweep(std::chrono::nanoseconds now) {
    return std::visit([&](auto& s) { return s.sweep(now); }, store_);
  }

  /// Client states held.
  std::size_t size() const {
    return std::visit([](const auto& s) { return s.size(); }, store_);
  }

  /// Bytes held.
  std::size_t memory_bytes() const {
    return std::visit([](const auto& s) { return s.memory_bytes(); }, store_);
  }

private:
  using variant = std::variant<memory_store<fixed_window>, memory_store<sliding_window>, memory_store<gcra>>;

  static variant make(rate_limit_algorithm a, std::int64_t limit, std::chrono::nanoseconds window, std::int64_t burst,
                      std::size_t shards, std::uint64_t seed) {
    switch (a) {
      case rate_limit_algorithm::sliding_window:
        return variant(std::in_place_index<1>, sliding_window(limit, window), shards, seed);
      case rate_limit_algorithm::gcra: return variant(std::in_place_index<2>, gcra(burst, limit, window), shards, seed);
      case rate_limit_algorithm::fixed_window: break;
    }
    return variant(std::in_place_index<0>, fixed_window(limit, window), shards, seed);
  }

  variant store_;
};

static_assert(rate_limiter<memory_store<fixed_window>>);
static_assert(rate_limiter<memory_store<sliding_window>>);
static_assert(rate_limiter<memory_store<gcra>>);
static_assert(rate_limiter<memory_limiter>);

}  // namespace bb
