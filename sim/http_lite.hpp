#pragma once
/// bb::sim::http_lite: the little HTTP/1.1 the simulated clients and upstreams speak.
///
/// Deliberately independent of bb/http (the code under test): it writes requests and
/// responses framed by Content-Length and reads back exactly what it and the proxy send.
/// Anything else is "bad", which the invariants then report. Every response a simulated
/// upstream writes names the request it answers in X-Sim-Answers (the id in /r/<id>), so a
/// client can tell its own answer from another's; the proxy's own answers carry none.

#include <algorithm>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <sim/error.hpp>
#include <sim/trace.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace bb::sim::http_lite {

/// A parsed request or response with its whole body.
struct message {
  int status = 0;      // responses
  std::string method;  // requests
  std::string target;  // requests
  std::uint64_t content_length = 0;
  bool close = false;  // Connection: close, or HTTP/1.0
  /// Responses: the request named by X-Sim-Answers; 0 when absent (the proxy's own answers).
  std::uint64_t answers = 0;
  std::string body;
  /// Responses: X-RateLimit-Limit, -Remaining, -Reset and Retry-After; -1 when absent.
  std::int64_t rate_limit = -1, rate_remaining = -1, rate_reset = -1, retry_after = -1;
};

/// Appends "Name: value\r\n".
inline void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

/// Appends the decimal digits of `v`.
inline void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// Appends a request line, Host, Content-Length when there is a body (and on every POST
/// unless `bare`: a POST with no body and no Content-Length at all), and the body.
inline void append_request(std::string& out, std::string_view method, std::string_view target, std::string_view body,
                           bool close, bool bare = false) {
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: sim\r\n");
  if (!body.empty() || (method == "POST" && !bare))
    out.append("Content-Length: "), append_number(out, body.size()), out.append("\r\n");
  if (close) field(out, "Connection", "close");
  out.append("\r\n").append(body);
}

/// A request line, Host, Content-Length when there is a body, and the body.
inline std::string make_request(std::string_view method, std::string_view target, std::string_view body, bool close) {
  std::string out;
  out.reserve(80 + body.size());
  append_request(out, method, target, body, close);
  return out;
}

/// The name of the field in which an upstream names the request it answers.
inline constexpr std::string_view answers_field = "X-Sim-Answers";

/// True for a status whose response has no body whatever its head says (RFC 9112 §6.3).
constexpr bool bodiless_status(int status) noexcept { return status < 200 || status == 204 || status == 304; }

/// Appends a status line, Content-Length (none for a bodiless status), X-Sim-Answers when
/// `answers` is not 0, and a blank line: the head of a `length`-byte body.
inline void append_response_head(std::string& out, int status, std::size_t length, bool close,
                                 std::uint64_t answers = 0) {
  out.append("HTTP/1.1 "), append_number(out, static_cast<std::uint64_t>(status));
  out.append(status < 400 ? " OK\r\n" : " Error\r\n");
  if (!bodiless_status(status)) out.append("Content-Length: "), append_number(out, length), out.append("\r\n");
  if (answers) out.append(answers_field).append(": "), append_number(out, answers), out.append("\r\n");
  if (close) field(out, "Connection", "close");
  out.append("\r\n");
}

/// A status line, Content-Length, X-Sim-Answers when `answers` is not 0, and the body.
inline std::string make_response(int status, std::string_view body, bool close, std::uint64_t answers = 0) {
  std::string out;
  out.reserve(80 + body.size());
  append_response_head(out, status, body.size(), close, answers);
  out.append(body);
  return out;
}

namespace detail {
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}
}  // namespace detail

namespace detail {
/// One generator step of a payload: the next state, and its eight bytes as letters (byte
/// k of the state gives letter k, 'a' + b * 26 / 256), computed in 16-bit lanes at once.
inline std::uint64_t letters(std::uint64_t& x) noexcept {
  x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  constexpr std::uint64_t lanes = 0x00ff00ff00ff00ffull;  // b * 26 < 2^16: lanes never carry
  const std::uint64_t even = (((x & lanes) * 26) >> 8) & lanes;
  const std::uint64_t odd = ((((x >> 8) & lanes) * 26) >> 8) & lanes;
  return (even | odd << 8) + 0x6161616161616161ull;
}
}  // namespace detail

/// Appends the `size` bytes an upstream answers GET /r/<id>/<size> with: printable,
/// seeded by id, so the client can check the body without having sent it.
inline void append_payload(std::string& out, std::uint64_t id, std::size_t size) {
  const std::size_t at = out.size();
  out.resize(at + size);
  char* p = out.data() + at;
  std::uint64_t x = id * 0x9e3779b97f4a7c15ull + 1;
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t w = detail::letters(x);
    if (std::endian::native == std::endian::little && i + 8 <= size) std::memcpy(p + i, &w, 8);
    else
      for (std::size_t k = 0; k < 8 && i + k < size; ++k) p[i + k] = static_cast<char>(w >> (8 * k));
  }
}

/// The payload of `id` and `size` on its own (see append_payload).
inline std::string payload(std::uint64_t id, std::size_t size) {
  std::string out;
  append_payload(out, id, size);
  return out;
}

/// checksum(payload(id, size)) without building the payload: each generator step makes
/// exactly one 64-bit word of the checksum.
inline std::uint64_t payload_checksum(std::uint64_t id, std::size_t size) {
  fnv1a f;
  std::uint64_t x = id * 0x9e3779b97f4a7c15ull + 1;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) f.word(detail::letters(x));
  if (i < size) {
    const std::uint64_t w = detail::letters(x);
    for (std::size_t k = 0; i + k < size; ++k) f.byte(static_cast<std::uint8_t>(w >> (8 * k)));
  }
  return f.h;
}

/// What a request head at the start of some bytes is: its method and the request id in its
/// target ("GET /r/<id>/<n> ", "HEAD /r/<id>/<n> ", "POST /r/<id> "); id 0 for anything else.
struct request_line {
  std::string_view method;
  std::uint64_t id = 0;
};

/// The request line at the start of `bytes` (see request_line); what the taps read of a write.
inline request_line request_of(std::string_view bytes) noexcept {
  request_line r;
  for (std::string_view m : {std::string_view("GET"), std::string_view("HEAD"), std::string_view("POST")})
    if (bytes.size() > m.size() + 4 && bytes.starts_with(m) && bytes.substr(m.size()).starts_with(" /r/")) r.method = m;
  if (r.method.empty()) return r;
  const auto digits = bytes.substr(r.method.size() + 4);
  std::from_chars(digits.data(), digits.data() + digits.size(), r.id);
  return r;
}

/// The request id and body size named by a target "/r/<id>/<size>"; {0, 0} otherwise.
inline std::pair<std::uint64_t, std::size_t> parse_target(std::string_view t) {
  std::uint64_t id = 0;
  std::size_t size = 0;
  if (!t.starts_with("/r/")) return {0, 0};
  t.remove_prefix(3);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), id);
  if (ec != std::errc{} || p == t.data() + t.size() || *p != '/') return {id, 0};
  std::from_chars(p + 1, t.data() + t.size(), size);
  return {id, size};
}

/// Reads messages one after the other from a stream, keeping what arrives early.
class reader {
public:
  enum class state { need_more, done, bad };

  /// How much of the next message a read takes.
  struct framing {
    bool response = true;
    bool head_request = false;  ///< a response to HEAD: no body, whatever its head says
    bool head_only = false;     ///< stop after the head: the body stays buffered for a later read
  };

  /// Parses one message from the buffered bytes into `m`.
  state parse(bool response, message& m) { return parse(framing{response}, m); }

  /// Parses one message, or its head only, from the buffered bytes into `m`.
  state parse(framing how, message& m) {
    const bool response = how.response;
    const std::string_view all(buf_.data() + pos_, buf_.size() - pos_);
    const auto end = all.find("\r\n\r\n");
    if (end == std::string_view::npos) return all.size() > 65536 ? state::bad : state::need_more;
    std::string_view head = all.substr(0, end + 2);
    const auto eol = head.find("\r\n");
    std::string_view first = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    m = message{};
    const auto sp1 = first.find(' ');
    if (sp1 == std::string_view::npos) return state::bad;
    if (response) {
      if (!first.starts_with("HTTP/1.")) return state::bad;
      m.close = first.starts_with("HTTP/1.0");
      auto code = first.substr(sp1 + 1, 3);
      if (std::from_chars(code.data(), code.data() + code.size(), m.status).ec != std::errc{}) return state::bad;
    } else {
      const auto sp2 = first.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos) return state::bad;
      m.method = first.substr(0, sp1);
      m.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    }
    while (!head.empty()) {
      const auto e = head.find("\r\n");
      std::string_view f = head.substr(0, e);
      head.remove_prefix(e + 2);
      const auto colon = f.find(':');
      if (colon == std::string_view::npos) return state::bad;
      std::string_view name = f.substr(0, colon), value = f.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (detail::iequals(name, "content-length")) {
        if (std::from_chars(value.data(), value.data() + value.size(), m.content_length).ec != std::errc{})
          return state::bad;
      } else if (detail::iequals(name, "connection") && detail::iequals(value, "close")) {
        m.close = true;
      } else if (response && detail::iequals(name, answers_field)) {
        if (m.answers != 0) return state::bad;  // twice: not what an upstream sends
        const auto r = std::from_chars(value.data(), value.data() + value.size(), m.answers);
        if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || m.answers == 0) return state::bad;
      } else if (response && !name.empty() && (name[0] == 'x' || name[0] == 'X' || name[0] == 'r' || name[0] == 'R')) {
        if (!rate_field(name, value, m)) return state::bad;
      }
    }
    if (how.head_only) return state::done;
    // Content-Length stays as announced; the body's framing knows better.
    const std::uint64_t length = response && (how.head_request || bodiless_status(m.status)) ? 0 : m.content_length;
    const std::size_t head_size = end + 4;
    if (all.size() - head_size < length) return state::need_more;
    m.body.assign(all.data() + head_size, length);
    pos_ += head_size + length;
    if (pos_ == buf_.size()) buf_.clear(), pos_ = 0;
    return state::done;
  }

  /// Takes a rate-limit header into `m`; false when its value is not a number.
  static bool rate_field(std::string_view name, std::string_view value, message& m) {
    std::int64_t* to = detail::iequals(name, "x-ratelimit-limit")       ? &m.rate_limit
                       : detail::iequals(name, "x-ratelimit-remaining") ? &m.rate_remaining
                       : detail::iequals(name, "x-ratelimit-reset")     ? &m.rate_reset
                       : detail::iequals(name, "retry-after")           ? &m.retry_after
                                                                        : nullptr;
    if (!to) return true;
    if (*to != -1) return false;  // twice: not what the proxy sends
    const auto r = std::from_chars(value.data(), value.data() + value.size(), *to);
    return r.ec == std::errc{} && r.ptr == value.data() + value.size();
  }

  /// Reads the next message; an empty code on success, the stream's error, or
  /// bad_message when the bytes are not a message this reader knows.
  template <class Stream>
  task<std::error_code> read(Stream& s, bool response, message& m) {
    return read(s, framing{response}, m);
  }

  /// Reads the next message (or its head only) as `f` says; as read() above.
  template <class Stream>
  task<std::error_code> read(Stream& s, framing how, message& m) {
    for (;;) {
      switch (parse(how, m)) {
        case state::done: co_return std::error_code{};
        case state::bad: co_return err(std::errc::bad_message);
        case state::need_more: break;
      }
      // NOTE: straight into buf_'s spare room (at least 512 bytes; the string grows as
      // messages need), not through a local array: that would put kilobytes into every
      // read's coroutine frame, which ten thousand clients reading at once feel.
      const std::size_t at = buf_.size();
      buf_.resize(std::max(at + 512, buf_.capacity()));
      const std::size_t chunk = buf_.size() - at;
      auto r = co_await s.read_some(std::span<char>(buf_.data() + at, chunk));
      buf_.resize(at + (r.ec ? 0 : r.bytes));
      if (r.ec) co_return r.ec;
    }
  }

  /// True when bytes of a next message are already buffered.
  [[nodiscard]] bool buffered() const noexcept { return pos_ < buf_.size(); }

private:
  std::string buf_;
  std::size_t pos_ = 0;
};

/// Writes `data` in one gathering write.
template <class Stream>
task<std::error_code> write_all(Stream& s, std::string_view data) {
  const_buffer b[] = {const_buffer(data.data(), data.size())};
  auto r = co_await s.write(std::span<const const_buffer>(b));
  co_return r.ec;
}

}  // namespace bb::sim::http_lite
