#pragma once
/// bb::sim::id_window: values by request id for the ids still of interest, so per-request
/// state costs memory for the requests in flight, not for every request of a run.
///
/// Ids are issued in order from 1; a window holds a value for each id from the oldest one
/// not yet forgotten to the newest one set. Forgetting from the front is amortized O(1), so
/// a run of any length holds about as many values as it has requests outstanding.

#include <cstdint>
#include <deque>

namespace bb::sim {

/// Values by request id from `first()` on; ids below it are forgotten.
template <class T>
class id_window {
public:
  /// The value of `id`, value-initialized if it was never set; nullptr when `id` was forgotten.
  T* at(std::uint64_t id) {
    if (id < base_) return nullptr;
    const auto i = id - base_;
    if (i >= values_.size()) values_.resize(i + 1);
    return &values_[i];
  }

  /// The value of `id`; nullptr when it was never set or already forgotten.
  [[nodiscard]] const T* find(std::uint64_t id) const noexcept {
    if (id < base_ || id - base_ >= values_.size()) return nullptr;
    return &values_[id - base_];
  }

  /// Forgets every id below `id`.
  void forget_below(std::uint64_t id) {
    while (base_ < id && !values_.empty()) values_.pop_front(), ++base_;
    if (base_ < id) base_ = id;
  }

  /// Forgets ids from the front while `done(value)` says so.
  template <class Pred>
  void forget_while(Pred done) {
    while (!values_.empty() && done(values_.front())) values_.pop_front(), ++base_;
  }

  /// The oldest id not forgotten.
  [[nodiscard]] std::uint64_t first() const noexcept { return base_; }
  /// How many ids the window holds.
  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }

private:
  std::deque<T> values_;
  std::uint64_t base_ = 1;
};

}  // namespace bb::sim
