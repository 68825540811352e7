#pragma once
/// bb::http request ids (`X-Request-Id`): which values a client may choose, and the form of
/// the ones the proxy makes itself.
///
/// A client's id is kept when it is 1 to 128 characters of letters, digits and `-_.:+/=@~`
/// (a UUID, a ULID, a trace id, base64): enough for every id scheme in use, and nothing
/// that could break a log line, a JSON string or a header. Anything else is replaced.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bb::http {

/// The longest client-chosen id kept.
inline constexpr std::size_t max_request_id = 128;

/// Whether `v` is kept as the request's id.
constexpr bool valid_request_id(std::string_view v) noexcept {
  if (v.empty() || v.size() > max_request_id) return false;
  for (char c : v) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("-_.:+/=@~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

/// Appends a new id made of 128 random bits (`hi`, `lo`): 32 lowercase hex digits.
inline void append_request_id(std::string& out, std::uint64_t hi, std::uint64_t lo) {
  constexpr char digits[] = "0123456789abcdef";
  for (std::uint64_t part : {hi, lo})
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(digits[(part >> shift) & 0xf]);
}

}  // namespace bb::http
