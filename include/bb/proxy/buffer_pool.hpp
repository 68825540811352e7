#pragma once
/// bb::buffer_pool: a worker's free list of fixed-size I/O buffers.
///
/// A connection holds a buffer only while bytes are moving; between requests it gives the
/// buffer back here, so thousands of idle keep-alive connections cost no buffer memory,
/// and a busy worker recycles the same few buffers instead of calling malloc per request.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace bb {

/// Buffers of one size, with at most `max_cached` kept for reuse. Single-threaded.
class buffer_pool {
public:
  buffer_pool(std::size_t buffer_size, std::size_t max_cached) : size_(buffer_size), max_cached_(max_cached) {}

  /// The size of every buffer of this pool.
  [[nodiscard]] std::size_t buffer_size() const noexcept { return size_; }

  /// A buffer: a cached one when there is one, else a new one.
  std::unique_ptr<char[]> take() {
    if (free_.empty()) return std::make_unique_for_overwrite<char[]>(size_);
    auto b = std::move(free_.back());
    free_.pop_back();
    if (free_.size() < low_) low_ = free_.size();
    return b;
  }

  /// Returns `b` for reuse, or frees it when enough are cached.
  void give(std::unique_ptr<char[]> b) {
    if (b && free_.size() < max_cached_) free_.push_back(std::move(b));
  }

  /// Frees the cached buffers that no take() needed since the last trim: a worker that
  /// was busy and went quiet gives its buffers back within two trims.
  void trim() {
    free_.resize(free_.size() - std::min(low_, free_.size()));
    low_ = free_.size();
  }

private:
  std::size_t size_;
  std::size_t max_cached_;
  std::vector<std::unique_ptr<char[]>> free_;
  std::size_t low_ = 0;  // the fewest cached since the last trim
};

}  // namespace bb
