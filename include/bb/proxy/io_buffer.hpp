#pragma once
/// bb::io_buffer: a fixed-capacity byte buffer with a read and a write position.
///
/// A connection reads into the free tail, parsers look at the readable middle, and
/// consumed bytes at the front are dropped by moving the rest down only when the tail
/// runs out: pipelined requests are parsed in place without copies. The storage comes
/// from a buffer_pool (or the heap) on first use and goes back while the connection idles.

#include <bb/proxy/buffer_pool.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace bb {

/// Bytes received but not yet consumed, in one contiguous run.
class io_buffer {
public:
  /// A buffer of `capacity` bytes from the heap.
  explicit io_buffer(std::size_t capacity) noexcept : cap_(capacity) {}
  /// A buffer whose storage comes from, and returns to, `pool`.
  explicit io_buffer(buffer_pool& pool) noexcept : pool_(&pool), cap_(pool.buffer_size()) {}
  io_buffer(const io_buffer&) = delete;
  io_buffer& operator=(const io_buffer&) = delete;
  ~io_buffer() { release(); }

  /// The bytes received and not yet consumed.
  [[nodiscard]] std::string_view readable() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
  [[nodiscard]] bool full() const noexcept { return begin_ == 0 && end_ == cap_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }

  /// Drops `n` bytes from the front of the readable bytes.
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  /// Free space to read into (taking storage on first use); moves the readable bytes to
  /// the front when the tail is full.
  std::span<char> writable() {
    if (!data_) data_ = pool_ ? pool_->take() : std::make_unique_for_overwrite<char[]>(cap_);
    if (end_ == cap_ && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {data_.get() + end_, cap_ - end_};
  }
  /// Marks `n` bytes written into writable() as received.
  void commit(std::size_t n) noexcept { end_ += n; }

  /// Gives the storage back when nothing is buffered (an idle connection keeps no buffer).
  void release_if_empty() noexcept {
    if (empty()) release();
  }

private:
  void release() noexcept {
    if (pool_) pool_->give(std::move(data_));
    data_.reset();
    begin_ = end_ = 0;
  }

  std::unique_ptr<char[]> data_;
  buffer_pool* pool_ = nullptr;
  std::size_t cap_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace bb
