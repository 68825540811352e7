#pragma once
/// bb::sim::misbehaviour: an upstream that writes bytes nobody asked for, and the record of
/// every write an upstream makes, so that a watch can tell asked bytes from unasked ones.
///
/// HTTP/1.1 has no request ids: a client (here, the proxy) pairs the n-th response on a
/// connection with its n-th request. An upstream that writes after a complete response
/// (a late body after a bodiless answer, a second response, garbage) breaks that pairing
/// for whoever sends the next request on the connection. The upstream knows what each of
/// its writes is, so it tells an upstream_log, write by write, in order; since the
/// simulated network delivers each write as one segment, the n-th data segment reaching the
/// proxy's end of a connection is the n-th write logged for it.

#include <cstddef>
#include <cstdint>
#include <sim/executor.hpp>
#include <string>
#include <string_view>

namespace bb::sim {

/// What an upstream that misbehaves does, and how often (off while `kinds` is 0).
struct misbehaviour {
  /// The ways of writing unasked bytes (and of answering before the request is whole).
  enum class kind : std::uint8_t {
    late_body,     ///< a bodiless answer (a 204 to a GET, a head to a HEAD), later its body
    poisoned,      ///< later, a second complete response naming the request already answered
    garbage,       ///< later, bytes that are no response at all
    early_answer,  ///< a POST answered 413 once its head is read, its body unread; then close
  };
  static constexpr std::size_t kind_count = 4;

  std::uint8_t kinds = 0;  ///< bit k set: kind k is among those drawn
  double rate = 0;         ///< the fraction of answers to /r/ requests that misbehave
  duration max_delay{0};   ///< unasked bytes follow their answer after a delay uniform in [0, this]

  /// True when kind `k` is among those drawn.
  [[nodiscard]] constexpr bool has(kind k) const noexcept { return kinds >> static_cast<int>(k) & 1; }
  /// True when the upstream misbehaves at all.
  [[nodiscard]] constexpr bool any() const noexcept { return kinds != 0 && rate > 0; }
};

/// The name of a kind, as the scenario parameters print it.
constexpr std::string_view to_string(misbehaviour::kind k) noexcept {
  constexpr std::string_view names[] = {"late_body", "poisoned", "garbage", "early_answer"};
  return names[static_cast<int>(k)];
}

/// `m` as text: its kinds, rate and delay ("poisoned+garbage 20% within 150ms").
inline std::string describe(const misbehaviour& m) {
  std::string s;
  for (std::size_t k = 0; k < misbehaviour::kind_count; ++k)
    if (m.has(static_cast<misbehaviour::kind>(k)))
      s += (s.empty() ? "" : "+") + std::string(to_string(static_cast<misbehaviour::kind>(k)));
  s += " " + std::to_string(static_cast<int>(m.rate * 100 + 0.5)) + "% within " +
       std::to_string(m.max_delay.count() / 1'000'000) + "ms";
  return s;
}

/// One write of an upstream on a connection: what its bytes are.
struct piece {
  enum class what : std::uint8_t {
    answer,        ///< the response to `request`
    early_answer,  ///< the response to `request`, written before its body was read
    late_body,     ///< unasked: the body of the bodiless answer to `request`
    poisoned,      ///< unasked: a second response after the answer to `request`, naming it
    garbage,       ///< unasked: bytes after the answer to `request` that parse as nothing
  };
  what is = what::answer;
  std::uint64_t request = 0;  ///< the request it answers, or (unasked bytes) whose answer it follows
  std::uint64_t names = 0;    ///< the request its bytes name read as a response (0: they are not one)

  /// True for bytes written after a complete response, which no request asked for.
  [[nodiscard]] constexpr bool unasked() const noexcept { return is >= what::late_body; }
};

/// Hears every write an upstream makes on its connections, in the order they are made.
struct upstream_log {
  /// `bytes` (at least one) went out on connection `connection` in one write, as `p`.
  virtual void record(std::uint64_t connection, std::size_t bytes, const piece& p) = 0;

protected:
  ~upstream_log() = default;
};

}  // namespace bb::sim
