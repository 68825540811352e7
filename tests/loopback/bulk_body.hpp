#pragma once
// Bodies too large to hold, for the streaming tests: sent from a repeating pattern,
// verified against it as they arrive, and decoded from chunked framing incrementally.
//
// Byte i of a bulk body is i mod 251. The period is prime, so a lost, repeated or
// reordered block of any power-of-two size changes the bytes that follow it.

#include "http_wire.hpp"
#include "socket.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bb_test {

/// The pattern, laid out so that any stretch of up to `block` bytes is one view.
class bulk_pattern {
public:
  static constexpr std::size_t period = 251;
  static constexpr std::size_t block = 256 * 1024;

  bulk_pattern() : bytes_(block + period) {
    for (std::size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<char>(i % period);
  }
  /// Bytes [offset, offset + n) of a bulk body; n <= block.
  [[nodiscard]] std::string_view at(std::uint64_t offset, std::size_t n) const {
    return {bytes_.data() + offset % period, n};
  }

  /// The shared instance.
  static const bulk_pattern& get() {
    static const bulk_pattern p;
    return p;
  }

private:
  std::vector<char> bytes_;
};

/// Counts the bytes of a bulk body as they arrive and checks them against the pattern.
class bulk_checker {
public:
  void feed(std::string_view data) {
    const auto& p = bulk_pattern::get();
    while (!data.empty()) {
      const auto n = std::min(data.size(), bulk_pattern::block);
      if (first_mismatch_ < 0 && std::memcmp(data.data(), p.at(count_, n).data(), n) != 0)
        first_mismatch_ = static_cast<std::int64_t>(count_);  // the block it is in, at least
      count_ += n;
      data.remove_prefix(n);
    }
  }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// True while every byte so far matched.
  [[nodiscard]] bool intact() const noexcept { return first_mismatch_ < 0; }
  /// "N bytes, intact" or "N bytes, mismatch in the block at M", for messages.
  [[nodiscard]] std::string summary() const {
    return std::to_string(count_) + " bytes, " +
           (intact() ? std::string("intact") : "mismatch in the block at " + std::to_string(first_mismatch_));
  }

private:
  std::uint64_t count_ = 0;
  std::int64_t first_mismatch_ = -1;
};

/// Decodes a chunked body incrementally; chunk extensions and trailers are skipped.
class chunked_decoder {
public:
  /// Decodes from the start of `in`, passing chunk data to `sink(std::string_view)`;
  /// returns the bytes used, fewer than in.size() only once done(). Throws on bad framing.
  template <class Sink>
  std::size_t feed(std::string_view in, Sink&& sink) {
    std::size_t i = 0;
    while (i < in.size() && state_ != state::done) {
      if (state_ == state::data) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.size() - i));
        sink(in.substr(i, n));
        i += n;
        if ((left_ -= n) == 0) state_ = state::data_crlf;
        continue;
      }
      const char c = in[i++];  // a framing line, byte by byte (they are short)
      if (c != '\n') {
        if (line_.size() > 256) throw std::runtime_error("chunked framing line too long");
        line_ += c;
        continue;
      }
      end_line();
    }
    return i;
  }
  [[nodiscard]] bool done() const noexcept { return state_ == state::done; }

private:
  enum class state { size_line, data, data_crlf, trailer, done };

  void end_line() {
    const std::string line = line_.size() && line_.back() == '\r' ? line_.substr(0, line_.size() - 1) : line_;
    line_.clear();
    switch (state_) {
      case state::size_line: {
        const auto hex = line.substr(0, line.find(';'));
        if (hex.empty() || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
          throw std::runtime_error("bad chunk size line: '" + line + "'");
        left_ = std::stoull(hex, nullptr, 16);
        state_ = left_ == 0 ? state::trailer : state::data;
        break;
      }
      case state::data_crlf:
        if (!line.empty()) throw std::runtime_error("chunk data not followed by CRLF");
        state_ = state::size_line;
        break;
      case state::trailer:
        if (line.empty()) state_ = state::done;
        break;
      case state::data:
      case state::done: break;
    }
  }

  state state_ = state::size_line;
  std::uint64_t left_ = 0;
  std::string line_;
};

/// Reads a body framed as `f` from `in` into `check`, never holding more than the reader's
/// buffer. Bytes after the body stay in the reader.
inline void read_bulk_body(wire_reader& in, framing f, std::uint64_t length, bulk_checker& check) {
  const auto more = [&] {
    const auto v = in.peek();
    if (v.empty()) throw std::runtime_error("stream ended inside a bulk body after " + check.summary());
    return v;
  };
  switch (f) {
    case framing::none: return;
    case framing::length:
      for (std::uint64_t left = length; left > 0;) {
        const auto v = more();
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, v.size()));
        check.feed(v.substr(0, n));
        in.consume(n);
        left -= n;
      }
      return;
    case framing::chunked: {
      chunked_decoder d;
      while (!d.done()) in.consume(d.feed(more(), [&](std::string_view data) { check.feed(data); }));
      return;
    }
    case framing::until_close:
      for (auto v = in.peek(); !v.empty(); v = in.peek()) {
        check.feed(v);
        in.consume(v.size());
      }
      return;
  }
}

/// Sends `n` bytes of the pattern, as they are or as chunks of up to a block each.
inline void send_bulk_body(int fd, std::uint64_t n, bool chunked) {
  const auto& p = bulk_pattern::get();
  char size_line[32];
  for (std::uint64_t sent = 0; sent < n;) {
    const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n - sent, bulk_pattern::block));
    if (chunked)
      send_all(fd, std::string_view(
                       size_line, static_cast<std::size_t>(std::snprintf(size_line, sizeof size_line, "%zx\r\n", k))));
    send_all(fd, p.at(sent, k));
    if (chunked) send_all(fd, "\r\n");
    sent += k;
  }
  if (chunked) send_all(fd, "0\r\n\r\n");
}

}  // namespace bb_test
