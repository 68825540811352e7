#pragma once
/// bb::io_buffer: a fixed-capacity byte buffer with a read and a write position.
///
/// A connection reads into the free tail, parsers look at the readable middle, and
/// consumed bytes at the front are dropped by moving the rest down only when the tail
/// runs out: pipelined requests are parsed in place without copies. The storage is
/// allocated on first use and can be released while the connection idles.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace bb {

/// Bytes received but not yet consumed, in one contiguous run.
class io_buffer {
public:
  /// A buffer that will hold at most `capacity` bytes.
  explicit io_buffer(std::size_t capacity) noexcept : cap_(capacity) {}

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

  /// Free space to read into (allocating the storage on first use); moves the readable
  /// bytes to the front when the tail is full.
  std::span<char> writable() {
    if (!data_) data_ = std::make_unique_for_overwrite<char[]>(cap_);
    if (end_ == cap_ && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {data_.get() + end_, cap_ - end_};
  }
  /// Marks `n` bytes written into writable() as received.
  void commit(std::size_t n) noexcept { end_ += n; }

  /// Frees the storage when nothing is buffered (an idle connection keeps no buffer).
  void release_if_empty() noexcept {
    if (empty()) data_.reset();
  }

private:
  std::unique_ptr<char[]> data_;
  std::size_t cap_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace bb
