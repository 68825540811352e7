#pragma once
// A deliberately small HTTP/1.1 reader for the loopback tests' client and upstreams.
//
// It is written independently of bb::http on purpose: a test that parsed the proxy's
// output with the proxy's own parser would share its bugs. It trusts its peer (the proxy
// under test is checked by assertions, not by this reader) and throws on anything odd.

#include "socket.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb_test {

/// Header fields in arrival order, names as received.
using header_fields = std::vector<std::pair<std::string, std::string>>;

inline std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The value of the first field named `name` (any case).
inline std::optional<std::string> find_field(const header_fields& h, std::string_view name) {
  for (const auto& [n, v] : h)
    if (lower(n) == lower(name)) return v;
  return std::nullopt;
}

/// Reads from a blocking socket through a buffer; every read obeys the socket's timeout.
class wire_reader {
public:
  explicit wire_reader(int fd) noexcept : fd_(fd) {}

  /// Reads more bytes; false at end of stream. Throws on timeout or error.
  bool fill() {
    char chunk[16 * 1024];
    for (;;) {
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) throw std::runtime_error("timed out waiting for the peer");
      throw_errno("recv");
    }
  }

  /// The bytes up to and including `delim`; nullopt when the stream ends cleanly before
  /// any byte arrived (the peer closed between messages).
  std::optional<std::string> read_through(std::string_view delim) {
    for (;;) {
      if (const auto at = buf_.find(delim); at != std::string::npos) return take(at + delim.size());
      if (!fill()) {
        if (buf_.empty()) return std::nullopt;
        throw std::runtime_error("stream ended inside a message: '" + buf_ + "'");
      }
    }
  }

  /// Exactly `n` bytes.
  std::string read_exactly(std::size_t n) {
    while (buf_.size() < n)
      if (!fill()) throw std::runtime_error("stream ended inside a body");
    return take(n);
  }

  /// Everything until the peer closes.
  std::string read_to_end() {
    while (fill()) {}
    return take(buf_.size());
  }

  /// The buffered bytes, reading more first when there are none; empty at end of stream.
  /// With consume(), streams a body of any size through the buffer.
  std::string_view peek() {
    if (buf_.empty()) fill();
    return buf_;
  }
  /// Drops the first `n` buffered bytes.
  void consume(std::size_t n) { buf_.erase(0, n); }

  /// True when the peer closes before sending anything more within the socket timeout.
  bool closed_by_peer() {
    if (!buf_.empty()) return false;
    try {
      return !fill();
    } catch (const std::runtime_error&) {
      return false;  // timed out or reset: not an orderly close
    }
  }

  /// The chunk data of a chunked body (trailers read and dropped).
  std::string read_chunked() {
    std::string body;
    for (;;) {
      const auto line = read_through("\r\n");
      if (!line) throw std::runtime_error("stream ended inside a chunked body");
      const auto size = std::stoul(*line, nullptr, 16);
      if (size == 0) break;
      body += read_exactly(size);
      if (read_exactly(2) != "\r\n") throw std::runtime_error("chunk data not followed by CRLF");
    }
    for (;;) {  // trailer fields until the empty line
      const auto line = read_through("\r\n");
      if (!line || *line == "\r\n") return body;
    }
  }

private:
  std::string take(std::size_t n) {
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }

  int fd_;
  std::string buf_;
};

/// A message head: its first line (without CRLF) and its fields.
struct message_head {
  std::string first_line;
  header_fields fields;
};

/// Splits a head read through its final CRLFCRLF.
inline message_head parse_head(const std::string& raw) {
  message_head h;
  std::size_t pos = raw.find("\r\n");
  h.first_line = raw.substr(0, pos);
  for (pos += 2; pos + 2 < raw.size();) {
    const auto end = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, end - pos);
    const auto colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("field line without a colon: '" + line + "'");
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    h.fields.emplace_back(line.substr(0, colon), value);
    pos = end + 2;
  }
  return h;
}

/// Whether a body follows, and how it is delimited.
enum class framing { none, length, chunked, until_close };

/// The framing `fields` announce; `until_close` only applies to responses.
inline framing framing_of(const header_fields& fields, bool is_response, std::size_t& length) {
  if (const auto te = find_field(fields, "transfer-encoding")) {
    if (lower(*te).find("chunked") != std::string::npos) return framing::chunked;
    return is_response ? framing::until_close : framing::none;
  }
  if (const auto cl = find_field(fields, "content-length")) {
    length = std::stoul(*cl);
    return framing::length;
  }
  return is_response ? framing::until_close : framing::none;
}

/// Reads the body `f` announces.
inline std::string read_body(wire_reader& r, framing f, std::size_t length) {
  switch (f) {
    case framing::none: return {};
    case framing::length: return r.read_exactly(length);
    case framing::chunked: return r.read_chunked();
    case framing::until_close: return r.read_to_end();
  }
  return {};
}

/// One request head as a test upstream read it, with its request line split.
struct upstream_request {
  std::string raw;  ///< the head's bytes as they came, through the final CRLFCRLF
  message_head head;
  std::string method;
  std::string target;  ///< as received: a path, `*`, or an absolute URI

  /// The request's body, read as its framing says (none without a framing field).
  std::string read_body(wire_reader& in) const {
    std::size_t length = 0;
    const auto f = framing_of(head.fields, false, length);
    return bb_test::read_body(in, f, length);
  }
};

/// The read-head loop every test upstream shares: reads request heads from `fd` one after
/// the other and calls `on(request, in)` for each, with `in` holding what followed the
/// head (the body is the handler's to read). Ends when the peer closes between requests,
/// or when `on` returns false (the handler took the connection over, or wants it closed).
template <class Handler>
void each_request(int fd, Handler&& on) {
  wire_reader in(fd);
  for (;;) {
    const auto raw = in.read_through("\r\n\r\n");
    if (!raw) return;
    upstream_request r{*raw, parse_head(*raw), {}, {}};
    const auto& line = r.head.first_line;
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    r.method = line.substr(0, sp1);
    r.target = sp1 == std::string::npos || sp2 <= sp1 ? std::string() : line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (!on(r, in)) return;
  }
}

}  // namespace bb_test
