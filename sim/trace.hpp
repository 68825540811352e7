#pragma once
/// bb::sim::trace: the canonical record of a run and its hash.
///
/// Every event that matters (a segment delivered, a connection opened or reset, a fault, a
/// request and its outcome) becomes a fixed-size record. The trace hash folds each record
/// into a 64-bit FNV-1a state one 64-bit word at a time (h = (h ^ w) * FNV prime, then
/// h ^= h >> 29 so that high bits reach low ones), with the words time (nanoseconds),
/// kind, a | b << 32, x, y. Two runs replay each other
/// exactly when their hashes match; text is produced only when someone asks to see it.

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <sim/executor.hpp>
#include <string>
#include <string_view>

namespace bb::sim {

/// What a trace record describes; the numbering is part of the hash, so only append.
enum class ev : std::uint8_t {
  connect,      // a: from host, b: to host, x: connection id, y: port
  accept,       // SYN reached a listener; a: server host, b: client host, x: connection id
  refuse,       // SYN found no listener; a: server host, b: client host, x: connection id
  established,  // SYN-ACK arrived; a: client host, x: connection id
  data,         // a: receiving host, b: sending host, x: connection id, y: bytes
  fin,          // a: receiving host, x: connection id
  rst,          // a: receiving host, x: connection id
  close,        // a: host, x: connection id, y: side
  crash,        // a: host
  restart,      // a: host
  pause,        // a: host
  resume,       // a: host
  hold,         // a: from host, b: to host
  release,      // a: from host, b: to host
  request,      // a: client host, x: request id, y: body checksum
  response,     // a: client host, x: request id, y: status
  failure,      // a: client host, x: request id, y: outcome code
  violation,    // x: invariant code, y: request or connection id
  phase,        // x: scenario phase
};

/// The lower-case name of `k`, as --trace prints it.
constexpr std::string_view to_string(ev k) noexcept {
  constexpr std::array<std::string_view, 19> names{
      "connect", "accept", "refuse", "established", "data",    "fin",      "rst",     "close",     "crash", "restart",
      "pause",   "resume", "hold",   "release",     "request", "response", "failure", "violation", "phase"};
  return names[static_cast<std::size_t>(k)];
}

/// One canonical event record.
struct record {
  duration t;
  ev kind;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint64_t x = 0;
  std::uint64_t y = 0;
};

/// 64-bit FNV-1a, the hash the trace and body checksums use.
struct fnv1a {
  static constexpr std::uint64_t offset = 0xcbf29ce484222325ull;
  static constexpr std::uint64_t prime = 0x100000001b3ull;
  std::uint64_t h = offset;

  void byte(std::uint8_t b) noexcept { h = (h ^ b) * prime; }
  /// FNV-1a's step on a whole word, then a fold: a multiply only carries bits upwards.
  void word(std::uint64_t w) noexcept {
    h = (h ^ w) * prime;
    h ^= h >> 29;
  }
  void bytes(std::string_view s) noexcept {
    for (char c : s) byte(static_cast<std::uint8_t>(c));
  }
};

/// The checksum of a body: FNV-1a's step applied to 64-bit little-endian words (then to
/// the trailing bytes one by one) rather than to single bytes, for speed.
inline std::uint64_t checksum(std::string_view s) noexcept {
  fnv1a f;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&w, s.data() + i, 8);
    } else {
      for (std::size_t k = 0; k < 8; ++k)
        w |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i + k])) << (8 * k);
    }
    f.word(w);
  }
  f.bytes(s.substr(i));
  return f.h;
}

/// Accumulates the trace hash and hands each record to an optional sink (--trace).
class trace {
public:
  using sink_type = std::function<void(const record&)>;

  /// Adds a record at time `t`.
  void add(duration t, ev kind, std::uint32_t a = 0, std::uint32_t b = 0, std::uint64_t x = 0, std::uint64_t y = 0) {
    ++count_;
    hash_.word(static_cast<std::uint64_t>(t.count()));
    hash_.word(static_cast<std::uint64_t>(kind));
    hash_.word(a | static_cast<std::uint64_t>(b) << 32);
    hash_.word(x);
    hash_.word(y);
    if (sink_) sink_(record{t, kind, a, b, x, y});
  }

  /// Sends every later record to `s` as well.
  void set_sink(sink_type s) { sink_ = std::move(s); }
  [[nodiscard]] std::uint64_t hash() const noexcept { return hash_.h; }
  [[nodiscard]] std::uint64_t records() const noexcept { return count_; }

private:
  fnv1a hash_;
  std::uint64_t count_ = 0;
  sink_type sink_;
};

}  // namespace bb::sim
