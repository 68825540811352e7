// body_framer::chunked under libFuzzer. Input: one control byte (bit 7: a 100-byte body
// limit instead of none; bits 0-6: the largest piece), then the bytes after a head. Traps
// when the verdict (done, bytes used, error) differs between feeding the stream whole, one
// byte at a time and in pieces of varying size, or when a step uses more than it was given.

#include "check.hpp"

#include "bb/http/body.hpp"

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>

namespace http = bb::http;

namespace {

struct verdict {
  std::size_t used = 0;
  bool done = false;
  std::error_code ec;
};

// Feeds `stream` in pieces of `piece(i)` bytes (at least one) until the framer decides.
template <class PieceFn>
verdict feed(std::string_view stream, std::uint64_t max_body, PieceFn&& piece) {
  auto framer = http::body_framer::chunked(max_body);
  verdict v;
  std::size_t at = 0;
  for (std::size_t i = 0; at < stream.size(); ++i) {
    const std::string_view given = stream.substr(at, piece(i));
    const auto step = framer.consume(given);
    BB_FUZZ_CHECK(step.used <= given.size());
    BB_FUZZ_CHECK(!step.done || !step.ec);
    // Until a verdict, the framer takes everything it is given.
    BB_FUZZ_CHECK(step.done || step.ec || step.used == given.size());
    v.used += step.used;
    at += given.size();
    if (step.done || step.ec) {
      v.done = step.done;
      v.ec = step.ec;
      break;
    }
  }
  BB_FUZZ_CHECK(v.done == framer.done());
  // After a verdict the framer takes nothing and repeats it.
  if (v.done || v.ec) {
    const auto again = framer.consume("0\r\n\r\n");
    BB_FUZZ_CHECK(again.used == 0 && again.done == v.done && again.ec == v.ec);
  }
  return v;
}

// A plain, whole-buffer reading of RFC 9112 §7.1 as the framer means it (any field bytes after
// `*OWS ";"` count as extensions): where a complete body ends, or nothing when it is invalid,
// incomplete or over `max_body`.
std::optional<std::size_t> reference_end(std::string_view s, std::uint64_t max_body) {
  auto field_byte = [](char c) { return !http::detail::is_ctl(c) || c == '\t'; };
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto value = [](char c) { return static_cast<std::uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); };
  std::size_t i = 0;
  std::uint64_t total = 0;
  for (;;) {
    std::size_t digits = 0;
    std::uint64_t size = 0;
    for (; i < s.size() && hex(s[i]); ++i, ++digits) size = size * 16 + value(s[i]);
    if (digits == 0 || digits > 16) return std::nullopt;
    std::size_t j = i;
    while (j < s.size() && http::detail::is_ows(s[j])) ++j;
    if (j < s.size() && s[j] == ';') {
      for (i = j + 1; i < s.size() && s[i] != '\r' && field_byte(s[i]);) ++i;
    }
    if (s.substr(i, 2) != "\r\n") return std::nullopt;
    i += 2;
    if (size == 0) break;
    if (size > max_body - total || size > s.size() - i) return std::nullopt;
    total += size;
    i += size;
    if (s.substr(i, 2) != "\r\n") return std::nullopt;
    i += 2;
  }
  while (i < s.size() && http::detail::is_tchar(s[i])) {  // trailer field lines
    while (i < s.size() && http::detail::is_tchar(s[i])) ++i;
    if (i == s.size() || s[i++] != ':') return std::nullopt;
    while (i < s.size() && s[i] != '\r' && field_byte(s[i])) ++i;
    if (s.substr(i, 2) != "\r\n") return std::nullopt;
    i += 2;
  }
  if (s.substr(i, 2) != "\r\n") return std::nullopt;
  return i + 2;
}

bool operator==(const verdict& a, const verdict& b) { return a.used == b.used && a.done == b.done && a.ec == b.ec; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::uint64_t max_body = (control & 0x80u) != 0 ? 100 : std::numeric_limits<std::uint64_t>::max();
  const std::size_t largest = (control & 0x7fu) + 1;

  const verdict whole = feed(stream, max_body, [&](std::size_t) { return stream.size(); });
  const verdict bytes = feed(stream, max_body, [](std::size_t) { return std::size_t{1}; });
  // Piece sizes cycle through the stream's own bytes, so they vary with the input.
  const verdict pieces = feed(stream, max_body, [&](std::size_t i) {
    return 1 + static_cast<unsigned char>(stream[(i * 7) % stream.size()]) % largest;
  });
  BB_FUZZ_CHECK(whole == bytes);
  BB_FUZZ_CHECK(whole == pieces);
  BB_FUZZ_CHECK(whole.used <= stream.size());
  // Short streams stay inside the framer's line and trailer bounds, where the reference applies.
  if (stream.size() < 4000) {
    const auto end = reference_end(stream, max_body);
    BB_FUZZ_CHECK(whole.done == end.has_value());
    if (end) BB_FUZZ_CHECK(whole.used == *end);
  }
  return 0;
}
