#pragma once
/// IP addresses and endpoints as plain values, shared by every transport.
///
/// Both runtimes name hosts by IP address and port: the real one through the kernel, the
/// simulator through its own table of named hosts. Parsing is numeric only; name lookup
/// belongs to the application, done once at start-up.

#include <array>
#include <charconv>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace bb {

/// An IPv4 or IPv6 address; IPv4 kept in the first four bytes.
struct ip_address {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;

  /// An IPv4 address from its four bytes.
  static ip_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
    ip_address r;
    r.bytes[0] = a, r.bytes[1] = b, r.bytes[2] = c, r.bytes[3] = d;
    return r;
  }

  /// Parses dotted-quad IPv4 or RFC 4291 text IPv6 (no zone); nullopt when malformed.
  static std::optional<ip_address> parse(std::string_view s) noexcept {
    return s.find(':') == std::string_view::npos ? parse_v4(s) : parse_v6(s);
  }

  /// The canonical text form (RFC 5952 for IPv6).
  [[nodiscard]] std::string to_string() const {
    char buf[48];
    return std::string(buf, format(buf));
  }

  /// Writes the text form into `out` (at least 46 bytes) and returns its length.
  std::size_t format(char* out) const noexcept {
    char* p = out;
    if (!v6) {
      for (int i = 0; i < 4; ++i) {
        if (i) *p++ = '.';
        p = std::to_chars(p, p + 3, bytes[i]).ptr;
      }
      return static_cast<std::size_t>(p - out);
    }
    std::uint16_t g[8];
    for (int i = 0; i < 8; ++i) g[i] = static_cast<std::uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
    int best = -1, best_len = 0;  // longest run of zero groups (length >= 2) becomes "::"
    for (int i = 0; i < 8;) {
      if (g[i] != 0) {
        ++i;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) ++j;
      if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
      i = j;
    }
    for (int i = 0; i < 8; ++i) {
      if (i == best) {
        *p++ = ':';
        if (i == 0) *p++ = ':';
        i += best_len - 1;
        continue;
      }
      p = std::to_chars(p, p + 4, g[i], 16).ptr;
      if (i != 7) *p++ = ':';
    }
    return static_cast<std::size_t>(p - out);
  }

  friend auto operator<=>(const ip_address&, const ip_address&) = default;

private:
  static std::optional<ip_address> parse_v4(std::string_view s) noexcept {
    ip_address r;
    const char* p = s.data();
    const char* end = p + s.size();
    for (int i = 0; i < 4; ++i) {
      if (i) {
        if (p == end || *p != '.') return std::nullopt;
        ++p;
      }
      unsigned v = 0;
      auto [q, ec] = std::from_chars(p, end, v);
      if (ec != std::errc{} || v > 255 || q == p || q - p > 3 || (q - p > 1 && *p == '0')) return std::nullopt;
      r.bytes[i] = static_cast<std::uint8_t>(v);
      p = q;
    }
    if (p != end) return std::nullopt;
    return r;
  }

  static std::optional<ip_address> parse_v6(std::string_view s) noexcept {
    std::uint16_t head[8], tail[8];
    int nh = 0, nt = 0;
    bool gap = false;
    std::size_t i = 0;
    if (s.starts_with("::")) gap = true, i = 2;
    else if (s.starts_with(":")) return std::nullopt;
    while (i < s.size()) {
      auto colon = s.find(':', i);
      auto part = s.substr(i, colon == std::string_view::npos ? std::string_view::npos : colon - i);
      if (part.empty()) return std::nullopt;
      std::uint16_t* dst = gap ? tail : head;
      int& n = gap ? nt : nh;
      if (part.find('.') != std::string_view::npos) {  // embedded IPv4 in the last 32 bits
        if (colon != std::string_view::npos || nh + nt > 6) return std::nullopt;
        auto v4 = parse_v4(part);
        if (!v4) return std::nullopt;
        dst[n++] = static_cast<std::uint16_t>(v4->bytes[0] << 8 | v4->bytes[1]);
        dst[n++] = static_cast<std::uint16_t>(v4->bytes[2] << 8 | v4->bytes[3]);
        i = s.size();
        break;
      }
      unsigned v = 0;
      auto [q, ec] = std::from_chars(part.data(), part.data() + part.size(), v, 16);
      if (ec != std::errc{} || q != part.data() + part.size() || part.size() > 4 || nh + nt >= 8) return std::nullopt;
      dst[n++] = static_cast<std::uint16_t>(v);
      if (colon == std::string_view::npos) {
        i = s.size();
        break;
      }
      i = colon + 1;
      if (i < s.size() && s[i] == ':') {
        if (gap) return std::nullopt;
        gap = true;
        ++i;
      } else if (i == s.size()) {
        return std::nullopt;
      }
    }
    if (gap ? nh + nt > 7 : nh != 8) return std::nullopt;
    ip_address r;
    r.v6 = true;
    std::uint16_t g[8] = {};
    for (int k = 0; k < nh; ++k) g[k] = head[k];
    for (int k = 0; k < nt; ++k) g[8 - nt + k] = tail[k];
    for (int k = 0; k < 8; ++k)
      r.bytes[2 * k] = static_cast<std::uint8_t>(g[k] >> 8), r.bytes[2 * k + 1] = static_cast<std::uint8_t>(g[k]);
    return r;
  }
};

/// An IP address and a port.
struct endpoint {
  ip_address ip;
  std::uint16_t port = 0;

  /// Parses "a.b.c.d:port" or "[v6]:port"; nullopt when malformed or the port is out of range.
  static std::optional<endpoint> parse(std::string_view s) noexcept {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
    if (host.starts_with('[')) {
      if (!host.ends_with(']')) return std::nullopt;
      host = host.substr(1, host.size() - 2);
      if (host.find(':') == std::string_view::npos) return std::nullopt;
    } else if (host.find(':') != std::string_view::npos) {
      return std::nullopt;
    }
    auto p = parse_port(port);
    auto ip = ip_address::parse(host);
    if (!p || !ip) return std::nullopt;
    return endpoint{*ip, *p};
  }

  /// Parses a decimal port 0..65535 with no sign or spaces.
  static std::optional<std::uint16_t> parse_port(std::string_view s) noexcept {
    unsigned v = 0;
    auto [q, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || s.size() > 5 || ec != std::errc{} || q != s.data() + s.size() || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
  }

  /// "a.b.c.d:port" or "[v6]:port".
  [[nodiscard]] std::string to_string() const {
    std::string s = ip.v6 ? "[" + ip.to_string() + "]" : ip.to_string();
    s += ':';
    s += std::to_string(port);
    return s;
  }

  friend auto operator<=>(const endpoint&, const endpoint&) = default;
};

}  // namespace bb
