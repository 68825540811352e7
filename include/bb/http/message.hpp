#pragma once
// HTTP/1.1 message heads as views into the receive buffer, and the field-value helpers
// that every other part of bb/http needs (token characters, lists, case-insensitive names).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bb::http {

/// One header field; both views point into the buffer the head was parsed from.
struct header {
  std::string_view name;
  std::string_view value;  ///< with leading and trailing OWS removed
};

/// Header fields in the order they were received.
using header_list = std::vector<header>;

/// The protocol versions balancebeam speaks.
enum class version : std::uint8_t { http10, http11 };

/// How a message body is delimited on the wire (RFC 9112 §6.3).
enum class body_kind : std::uint8_t { none, content_length, chunked, until_close };

/// A parsed request line and header section; valid only while the parsed buffer is unchanged.
struct request_head {
  std::string_view method;
  std::string_view target;
  version ver = version::http11;
  // The parser clears this but never shrinks it, so a keep-alive connection that reuses one
  // request_head stops allocating after its first few requests.
  header_list headers;
  body_kind body = body_kind::none;
  std::uint64_t content_length = 0;  ///< meaningful only when body == body_kind::content_length
  bool keep_alive = true;            ///< whether the client allows another request on this connection
  bool expect_continue = false;      ///< an HTTP/1.1 request carried `Expect: 100-continue`

  /// True for a HEAD request, whose response never has a body.
  bool is_head() const noexcept { return method == "HEAD"; }
};

/// A parsed status line and header section; valid only while the parsed buffer is unchanged.
struct response_head {
  version ver = version::http11;
  int status = 0;
  std::string_view reason;  ///< may be empty
  header_list headers;
  body_kind body = body_kind::none;
  std::uint64_t content_length = 0;  ///< meaningful only when body == body_kind::content_length
  bool keep_alive = true;            ///< whether the server allows another request on this connection
};

namespace detail {

/// ASCII lower case; header names are ASCII, so locale-aware tolower would be both slow and wrong.
constexpr char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

/// True for the characters a token may contain (RFC 9110 §5.6.2).
constexpr bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

/// True for a non-empty string of tchar.
constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

/// True for control characters (0x00–0x1F and DEL), which never belong in a head except HTAB.
constexpr bool is_ctl(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

/// True for optional whitespace (SP or HTAB).
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// `s` without leading and trailing OWS.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace detail

/// True when two ASCII strings are equal ignoring case, as field names and most tokens compare.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (detail::to_lower(a[i]) != detail::to_lower(b[i])) return false;
  }
  return true;
}

/// The value of the first header named `name` (any case), or nullopt when there is none.
inline std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) noexcept {
  for (const header& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

/// How many header fields are named `name` (any case).
inline std::size_t count_headers(const header_list& headers, std::string_view name) noexcept {
  std::size_t n = 0;
  for (const header& h : headers) {
    if (iequals(h.name, name)) ++n;
  }
  return n;
}

/// Calls `fn(element)` for every OWS-trimmed element of a comma-separated list, empty ones included.
// Quoted strings are not understood: the lists read here (Connection, Transfer-Encoding,
// Content-Length) hold only tokens or digits, and a quote in them makes an element invalid.
template <class Fn>
constexpr void for_each_list_element(std::string_view list, Fn&& fn) {
  for (;;) {
    const std::size_t comma = list.find(',');
    fn(detail::trim_ows(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

/// True when any Connection field lists `token` (case-insensitive, OWS-trimmed, across all Connection fields).
inline bool connection_has_token(const header_list& headers, std::string_view token) noexcept {
  if (token.empty()) return false;  // "a,,b" has empty elements, and they name nothing
  bool found = false;
  for (const header& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    for_each_list_element(h.value, [&](std::string_view element) {
      if (iequals(element, token)) found = true;
    });
    if (found) return true;
  }
  return false;
}

}  // namespace bb::http
