#pragma once
/// bb::access_entry: one request's line in the access log, as text or as JSON
/// (`--access-log-format`).
///
/// Text: `IP "METHOD target" STATUS UPSTREAM 1.234ms id=REQUEST_ID`, as it has been, with
/// the id added. JSON: one object, `{"type":"access","client":...,"request_id":...}`; the
/// application's log sink adds the time and level to every line it writes (a JSON line
/// starts with `{`, so a sink can tell it apart).

#include <bb/core/log.hpp>

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace bb {

/// How access lines are written.
enum class access_log_format : std::uint8_t { text, json };

/// What one access line says.
struct access_entry {
  std::string_view client;        ///< the client's IP
  std::string_view request_line;  ///< "METHOD target"
  int status = 0;
  std::string_view upstream;  ///< the upstream's name; empty when none was tried
  std::int64_t duration_us = 0;
  std::string_view request_id;
};

namespace detail {
inline void json_string(line& l, std::string_view s) {
  l << '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      l << '\\' << c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      l << std::string_view(buf);
    } else {
      l << c;
    }
  }
  l << '"';
}
}  // namespace detail

/// Appends `e` to `l` in format `f`.
inline void append_access(line& l, const access_entry& e, access_log_format f) {
  const auto ms = e.duration_us / 1000, frac = e.duration_us % 1000;
  const char fraction[] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                           static_cast<char>('0' + frac % 10)};
  if (f == access_log_format::text) {
    l << e.client << " \"" << e.request_line << "\" " << e.status << ' ' << (e.upstream.empty() ? "-" : e.upstream)
      << ' ' << ms << std::string_view(fraction, 4) << "ms id=" << e.request_id;
    return;
  }
  const auto space = e.request_line.find(' ');
  l << "{\"type\":\"access\",\"client\":";
  detail::json_string(l, e.client);
  l << ",\"method\":";
  detail::json_string(l, e.request_line.substr(0, space));
  l << ",\"target\":";
  detail::json_string(l, space == std::string_view::npos ? std::string_view() : e.request_line.substr(space + 1));
  l << ",\"status\":" << e.status << ",\"upstream\":";
  if (e.upstream.empty()) l << "null";
  else detail::json_string(l, e.upstream);
  l << ",\"duration_ms\":" << ms << std::string_view(fraction, 4) << ",\"request_id\":";
  detail::json_string(l, e.request_id);
  l << '}';
}

}  // namespace bb
