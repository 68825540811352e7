#pragma once
/// The open-addressing table behind one shard of bb::memory_store: client keys to
/// algorithm states in one flat array, so a tracked client costs its key and its state
/// (24 bytes for gcra) divided by the load factor, and nothing else.
///
/// Linear probing, with backward-shift deletion instead of tombstones so that reclaiming
/// never slows later lookups. A slot is vacant when its state equals `State{}`, the fresh
/// state, which a stored entry never holds (see the rate_algorithm concept); this spares a
/// control byte per slot. Capacities need not be powers of two: the home slot is
/// `hash * capacity >> 64`, which lets a rebuild size the table to twice its live entries.

#include <algorithm>
#include <bb/core/client_key.hpp>
#include <bb/limit/detail/time_math.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace bb::detail {

/// A 64-bit hash of a key under a seed; a bijection of either half when the other is zero.
inline std::uint64_t hash_key(const client_key& k, std::uint64_t seed) noexcept {
  std::uint64_t x = k.lo ^ seed ^ k.hi * 0x9e3779b97f4a7c15;
  x ^= x >> 33;  // murmur3's fmix64
  x *= 0xff51afd7ed558ccd;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53;
  x ^= x >> 33;
  return x;
}

/// Keys to States. `Expired` predicates tell which entries a sweep or a rebuild may drop.
template <class State>
class key_table {
public:
  /// One entry; vacant when `state == State{}`.
  struct slot {
    client_key key;
    State state;
  };

  static constexpr std::size_t min_capacity = 8;

  explicit key_table(std::uint64_t seed = 0) : seed_(seed) { reset(min_capacity); }

  /// The entry for `k` (whose hash_key is `h`), inserted with the fresh state if absent.
  /// The caller must leave a non-fresh state in it or erase it before anyone else probes.
  /// Inserting may rebuild the table, dropping expired entries; references die then.
  template <class Expired>
  slot& find_or_insert(const client_key& k, std::uint64_t h, const Expired& expired) {
    std::size_t i = home(h);
    for (; !vacant(slots_[i]); i = next(i))
      if (slots_[i].key == k) return slots_[i];
    if ((count_ + 1) * 4 > capacity_ * 3) {
      std::size_t live = 0;
      for (std::size_t j = 0; j < capacity_; ++j) live += !vacant(slots_[j]) && !expired(slots_[j].state);
      rebuild(std::max(min_capacity, 2 * (live + 1)), expired);
      for (i = home(h); !vacant(slots_[i]);) i = next(i);
    }
    slots_[i].key = k;
    ++count_;
    return slots_[i];
  }

  /// Removes the entry `s` refers to.
  void erase(slot& s) noexcept { erase_at(static_cast<std::size_t>(&s - slots_.get())); }

  /// Looks at the next `steps` slots after the sweep cursor and erases the expired ones.
  /// Each time the cursor wraps, a table that is mostly empty is rebuilt smaller.
  /// Returns how many entries were reclaimed.
  template <class Expired>
  std::size_t sweep_some(std::size_t steps, const Expired& expired) {
    std::size_t reclaimed = 0;
    for (; steps > 0; --steps) {
      if (cursor_ >= capacity_) {
        cursor_ = 0;
        if (capacity_ > min_capacity && count_ * 8 < capacity_) {
          const std::size_t before = count_;
          rebuild(std::max(min_capacity, 2 * count_), expired);
          reclaimed += before - count_;
        }
        return reclaimed;
      }
      slot& s = slots_[cursor_];
      if (!vacant(s) && expired(s.state)) {
        erase_at(cursor_);  // a later entry may have shifted into the cursor: look again
        ++reclaimed;
      } else {
        ++cursor_;
      }
    }
    return reclaimed;
  }

  /// One whole sweep: erases every expired entry, then shrinks the table if it is mostly empty.
  template <class Expired>
  std::size_t sweep_all(const Expired& expired) {
    cursor_ = 0;
    std::size_t reclaimed = 0;
    while (cursor_ < capacity_) reclaimed += sweep_some(capacity_ - cursor_, expired);
    return reclaimed + sweep_some(1, expired);
  }

  /// Entries stored, expired or not.
  std::size_t size() const noexcept { return count_; }
  /// Slots allocated.
  std::size_t capacity() const noexcept { return capacity_; }
  /// Heap bytes held.
  std::size_t memory_bytes() const noexcept { return capacity_ * sizeof(slot); }

private:
  static bool vacant(const slot& s) noexcept { return s.state == State{}; }
  std::size_t home(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>((uint128_t{h} * capacity_) >> 64);
  }
  std::size_t next(std::size_t i) const noexcept { return i + 1 == capacity_ ? 0 : i + 1; }

  void reset(std::size_t capacity) {
    slots_ = std::make_unique<slot[]>(capacity);
    capacity_ = capacity;
    count_ = 0;
    cursor_ = 0;
  }

  template <class Expired>
  void rebuild(std::size_t capacity, const Expired& expired) {
    auto old = std::move(slots_);
    const std::size_t old_capacity = capacity_;
    reset(capacity);
    for (std::size_t j = 0; j < old_capacity; ++j) {
      const slot& s = old[j];
      if (vacant(s) || expired(s.state)) continue;
      std::size_t i = home(hash_key(s.key, seed_));
      while (!vacant(slots_[i])) i = next(i);
      slots_[i] = s;
      ++count_;
    }
  }

  // NOTE: an entry may move back into the hole unless its home lies cyclically in
  // (hole, j]; moving it keeps every entry reachable from its home without tombstones.
  void erase_at(std::size_t hole) noexcept {
    for (std::size_t j = next(hole); !vacant(slots_[j]); j = next(j)) {
      const std::size_t k = home(hash_key(slots_[j].key, seed_));
      const bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].state = State{};
    --count_;
  }

  std::unique_ptr<slot[]> slots_;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;
  std::size_t cursor_ = 0;  // where sweep_some looks next
  std::uint64_t seed_ = 0;
};

}  // namespace bb::detail
