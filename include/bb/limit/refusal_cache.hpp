#pragma once
/// bb::refusal_cache: the clients a remote store refused, until the time it said they
/// may try again, so that their requests are refused here without a round trip.
///
/// Exact, not a guess: every algorithm here changes no state on a refusal, and an
/// admission only moves the next admission later, so a client the store refused until T
/// stays refused by the store until T whatever other proxies do. T is counted from when the
/// call was sent (the store decided after that), so the cache lets go no later than the
/// store would admit; the figures it answers with (X-RateLimit-Reset, Retry-After) are the
/// store's, less the time since.

#include <bb/core/client_key.hpp>
#include <bb/limit/decision.hpp>
#include <bb/limit/detail/key_table.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace bb {

/// Refused clients and until when; one per worker (single-threaded), bounded in size.
class refusal_cache {
public:
  /// A cache of at most `capacity` clients; `seed` salts the key hash.
  explicit refusal_cache(std::size_t capacity = 65536, std::uint64_t seed = 0)
      : capacity_(capacity), map_(16, hasher{seed}) {}

  /// The refusal of `k` still in force at `now` (the caller's clock), as the store would
  /// answer it now; nullopt when there is none.
  std::optional<rate_decision> find(const client_key& k, std::chrono::nanoseconds now) {
    const auto it = map_.find(k);
    if (it == map_.end()) return std::nullopt;
    if (now >= it->second.until) {
      map_.erase(it);
      return std::nullopt;
    }
    rate_decision d;
    d.allowed = false;
    d.limit = it->second.limit;
    d.remaining = 0;
    d.retry_after_ns = (it->second.until - now).count();
    d.reset_after_ns = std::max(it->second.reset_at - now, it->second.until - now).count();
    return d;
  }

  /// Records that the store refused `k` until `until`, with its allowance whole again at
  /// `reset_at`. When the cache is full of live refusals the record is dropped (the next
  /// request asks the store again: a round trip, never a wrong answer).
  void insert(const client_key& k, std::chrono::nanoseconds until, std::chrono::nanoseconds reset_at,
              std::uint32_t limit, std::chrono::nanoseconds now) {
    if (map_.size() >= capacity_ && !map_.contains(k)) {
      std::erase_if(map_, [&](const auto& e) { return now >= e.second.until; });
      if (map_.size() >= capacity_) return;
    }
    map_[k] = entry{until, reset_at, limit};
  }

  /// Forgets every refusal.
  void clear() noexcept { map_.clear(); }

  /// Clients held (some possibly no longer refused).
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }

private:
  struct entry {
    std::chrono::nanoseconds until;
    std::chrono::nanoseconds reset_at;
    std::uint32_t limit;
  };
  struct hasher {
    std::uint64_t seed;
    std::size_t operator()(const client_key& k) const noexcept { return detail::hash_key(k, seed); }
  };
  std::size_t capacity_;
  std::unordered_map<client_key, entry, hasher> map_;
};

}  // namespace bb
