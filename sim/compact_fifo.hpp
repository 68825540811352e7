#pragma once
/// bb::sim::compact_fifo: a first-in first-out queue that costs nothing until used and only
/// what it holds after, for the many small queues a watch keeps per connection.
///
/// std::deque allocates a 512-byte block and its map as soon as it is made (libstdc++), so a
/// queue per connection of a long run costs over a kilobyte each whether or not anything
/// waits there; this one is a vector read from a moving head, emptied when the head catches up.

#include <cstddef>
#include <utility>
#include <vector>

namespace bb::sim {

/// A FIFO over a vector: push at the back, read and pop at the front.
template <class T>
class compact_fifo {
public:
  [[nodiscard]] bool empty() const noexcept { return head_ == items_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
  /// The oldest element; the queue must not be empty.
  [[nodiscard]] T& front() noexcept { return items_[head_]; }
  void push_back(T v) { items_.push_back(std::move(v)); }
  template <class... Args>
  void emplace_back(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
  }
  /// Drops the oldest element; the queue must not be empty.
  void pop_front() {
    if (++head_ == items_.size()) {
      items_.clear(), head_ = 0;
    } else if (head_ >= 32 && head_ * 2 >= items_.size()) {  // keep the dead prefix under half
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace bb::sim
