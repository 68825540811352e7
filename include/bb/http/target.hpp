#pragma once
// The request target forms a method allows (RFC 9112 §3.2) and the syntax of Host
// (RFC 9110 §7.2, RFC 3986 §3.2.2-3.2.3). A proxy forwards the target and Host as received,
// so it must accept only what every conforming server reads the same way.

#include "bb/http/error.hpp"
#include "bb/http/message.hpp"

#include <cstddef>
#include <string_view>
#include <system_error>

namespace bb::http {

namespace detail {

constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// RFC 3986 unreserved / sub-delims: what a reg-name may hold besides pct-encodings.
constexpr bool is_reg_name_char(char c) noexcept {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':  // unreserved
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':  // sub-delims
    case '+':
    case ',':
    case ';':
    case '=': return true;
    default: return false;
  }
}

/// True for RFC 3986's reg-name (which IPv4address is a case of): unreserved, sub-delims
/// and pct-encoded octets; it may be empty.
constexpr bool is_reg_name(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_reg_name_char(s[i])) {
      return false;
    }
  }
  return true;
}

/// True for RFC 3986's IP-literal without its brackets: an IPv6 address (hex groups,
/// colons, an embedded dotted quad) or IPvFuture (`v` HEXDIG+ `.` then unreserved,
/// sub-delims or colons).
constexpr bool is_ip_literal_body(std::string_view s) noexcept {
  if (s.empty()) return false;
  if (s[0] == 'v' || s[0] == 'V') {
    std::size_t i = 1;
    while (i < s.size() && is_hex(s[i])) ++i;
    if (i == 1 || i + 1 >= s.size() || s[i] != '.') return false;
    for (++i; i < s.size(); ++i)
      if (!is_reg_name_char(s[i]) && s[i] != ':') return false;
    return true;
  }
  std::size_t colons = 0;
  for (char c : s) {
    if (c == ':') ++colons;
    else if (!is_hex(c) && c != '.') return false;
  }
  return colons >= 2 && colons <= 7;
}

}  // namespace detail

/// True when `value` is `host [ ":" port ]` (RFC 9110 §7.2): a reg-name or IPv4 address,
/// or an IP-literal in brackets, and an optional port (`*DIGIT`, so possibly empty) of at
/// most five digits up to 65535. Empty is allowed (RFC 9112 §3.2: a target without an
/// authority is sent with an empty Host).
constexpr bool is_valid_host(std::string_view value) noexcept {
  std::string_view host = value, port;
  if (!value.empty() && value[0] == '[') {
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos || !detail::is_ip_literal_body(value.substr(1, close - 1))) return false;
    const std::string_view rest = value.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    const std::size_t colon = value.find(':');
    if (colon != std::string_view::npos) host = value.substr(0, colon), port = value.substr(colon + 1);
    if (!detail::is_reg_name(host)) return false;
  }
  if (port.size() > 5) return false;
  unsigned n = 0;
  for (char c : port) {
    if (!detail::is_digit(c)) return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n <= 65535;
}

/// Checks `target` (visible ASCII, already vetted) against what `method` allows:
/// origin-form (`/path[?query]`) for any method but CONNECT, absolute-form
/// (`scheme://host[:port][/path][?query]`, the authority as Host's syntax allows, no
/// userinfo) likewise, `*` with OPTIONS only; CONNECT (authority-form) is not
/// supported by a reverse proxy. A `#` is never part of a target: servers that cut the
/// path there and servers that do not would read two different requests.
inline std::error_code check_target(std::string_view method, std::string_view target) noexcept {
  if (method == "CONNECT") return error::unsupported_method;
  if (target.find('#') != std::string_view::npos) return error::bad_target;
  if (target[0] == '/') return {};
  if (target == "*") return method == "OPTIONS" ? std::error_code{} : error::bad_target;
  // absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
  std::size_t i = 0;
  if (!detail::is_alpha(target[0])) return error::bad_target;
  while (i < target.size() && (detail::is_alpha(target[i]) || detail::is_digit(target[i]) || target[i] == '+' ||
                               target[i] == '-' || target[i] == '.'))
    ++i;
  if (target.substr(i, 3) != "://") return error::bad_target;  // authority-form without CONNECT, or garbage
  // The authority must be a Host as valid as any other (it may become the Host upstream),
  // without userinfo (RFC 9110 §4.2.4: a recipient treats it as an error).
  const std::string_view rest = target.substr(i + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (!is_valid_host(authority)) return error::bad_target;
  return {};
}

}  // namespace bb::http
