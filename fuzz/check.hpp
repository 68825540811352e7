#pragma once
// What the harnesses share: a check that names itself before it traps, so a crash report
// says which property broke, and the checks on a parsed head that do not depend on its kind.

#include "bb/http/message.hpp"

#include <cstdio>
#include <string_view>

/// Traps (a crash libFuzzer records with its input) when `cond` is false.
#define BB_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "BB_FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                                      \
    }                                                                                        \
  } while (0)

namespace bb::fuzz {

/// True when `part` lies wholly inside `whole` (an empty view anywhere inside or at its end).
inline bool inside(std::string_view whole, std::string_view part) noexcept {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

/// True when every field of `fields` lies in `head` and is a token name with a trimmed, clean value.
inline bool fields_are_sound(std::string_view head, const http::header_list& fields) noexcept {
  for (const http::header& f : fields) {
    if (!inside(head, f.name) || !inside(head, f.value) || !http::detail::is_token(f.name)) return false;
    if (!f.value.empty() && (http::detail::is_ows(f.value.front()) || http::detail::is_ows(f.value.back())))
      return false;
    for (char c : f.value) {
      if (http::detail::is_ctl(c) && c != '\t') return false;
    }
  }
  return true;
}

/// True when both lists hold the same names and values in the same order.
inline bool same_fields(const http::header_list& a, const http::header_list& b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  }
  return true;
}

/// True for the fields a forwarding hop removes (RFC 9110 §7.6.1), written apart from the
/// serializer's own rule so the two can disagree; Host and framing fields always stay.
inline bool hop_by_hop(const http::header_list& fields, std::string_view name) noexcept {
  using http::iequals;
  if (iequals(name, "host") || iequals(name, "content-length") || iequals(name, "transfer-encoding")) return false;
  return iequals(name, "connection") || iequals(name, "keep-alive") || iequals(name, "te") ||
         iequals(name, "trailer") || iequals(name, "upgrade") || iequals(name, "proxy-connection") ||
         http::connection_has_token(fields, name);
}

}  // namespace bb::fuzz
