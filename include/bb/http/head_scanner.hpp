#pragma once
// Finding where a message head ends, incrementally, rejecting bad bytes and bad lines as
// they arrive; the parsers (request_parser.hpp, response_parser.hpp) build on it.

#include "bb/http/error.hpp"
#include "bb/http/limits.hpp"
#include "bb/http/message.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>
#include <system_error>

namespace bb::http {

/// What a feed() concluded.
enum class parse_state { need_more, done, failed };

/// The outcome of one feed().
struct parse_result {
  parse_state st = parse_state::need_more;
  std::size_t head_size = 0;  ///< when done: bytes from the buffer's start through the final CRLFCRLF
  std::error_code ec;         ///< when failed: why
};

namespace detail {

/// Empty lines a server skips before a request line (RFC 9112 §2.2 asks for at least one).
inline constexpr std::size_t max_leading_empty_lines = 4;

/// What differs between request and response heads as far as finding a head's end goes.
struct head_rules {
  bool skip_leading_empty_lines;
  error first_line_error;         ///< for a bad start line, or a bad byte in it
  error too_large_in_first_line;  ///< when the limit is hit before the start line ended
};

/// True for a field line `name ":" value`; the scanner has already vetted every value byte.
// A line starting with SP/HTAB (obs-fold) or with whitespace before the colon fails the token test.
constexpr bool is_field_line(std::string_view line) noexcept {
  const std::size_t colon = line.find(':');
  return colon != std::string_view::npos && is_token(line.substr(0, colon));
}

/// Finds the end of a head incrementally and rejects bad bytes and bad lines as they arrive.
// Each verdict depends only on bytes already scanned (for a CR, also on the byte after it,
// which the scanner waits for), so a head fed in any number of pieces gets the verdict it
// gets when fed whole, and garbage such as a TLS hello fails on its first byte.
class head_scanner {
public:
  /// Scans `buf`, which extends the buffer of the previous call, from where that call stopped.
  template <class FirstLineFn>
  parse_result scan(std::string_view buf, const limits& lim, const head_rules& rules, FirstLineFn&& on_first_line) {
    const std::size_t end = std::min(buf.size(), lim.max_head_bytes);
    std::size_t i = scanned_;
    while (i < end) {
      const char c = buf[i];
      if (c == '\r') {
        if (i + 1 == buf.size()) break;  // the LF may come with the next read
        if (buf[i + 1] != '\n') return fail(line_error(rules));
        if (i + 1 == lim.max_head_bytes) break;  // this line ends past the limit
        if (auto r = end_line(buf, i, lim, rules, on_first_line)) return *r;
        i += 2;
        line_start_ = i;
        continue;
      }
      if (c == '\n' || (is_ctl(c) && c != '\t')) return fail(line_error(rules));
      ++i;
    }
    scanned_ = i;
    if (buf.size() > lim.max_head_bytes) {
      return fail(first_line_seen_ ? error::header_too_large : rules.too_large_in_first_line);
    }
    return {};
  }

  /// Offset of the start line in the buffer (after any skipped empty lines).
  std::size_t first_line_begin() const noexcept { return first_line_begin_; }
  /// Offset of the CR that ends the start line.
  std::size_t first_line_end() const noexcept { return first_line_end_; }

private:
  static parse_result fail(error e) noexcept { return {parse_state::failed, 0, make_error_code(e)}; }

  error line_error(const head_rules& rules) const noexcept {
    return first_line_seen_ ? error::bad_header : rules.first_line_error;
  }

  template <class FirstLineFn>
  std::optional<parse_result> end_line(std::string_view buf, std::size_t cr, const limits& lim, const head_rules& rules,
                                       FirstLineFn& on_first_line) {
    const std::string_view line = buf.substr(line_start_, cr - line_start_);
    if (!first_line_seen_) {
      if (line.empty()) {
        if (!rules.skip_leading_empty_lines || ++empty_lines_ > max_leading_empty_lines) {
          return fail(rules.first_line_error);
        }
        return std::nullopt;
      }
      first_line_seen_ = true;
      first_line_begin_ = line_start_;
      first_line_end_ = cr;
      if (const std::error_code ec = on_first_line(line)) return parse_result{parse_state::failed, 0, ec};
      return std::nullopt;
    }
    if (line.empty()) {
      scanned_ = cr + 2;
      return parse_result{parse_state::done, cr + 2, {}};
    }
    if (!is_field_line(line)) return fail(error::bad_header);
    if (++fields_ > lim.max_headers) return fail(error::too_many_headers);
    return std::nullopt;
  }

  std::size_t scanned_ = 0;     // bytes examined so far; the next call resumes here
  std::size_t line_start_ = 0;  // offset of the line being scanned
  std::size_t first_line_begin_ = 0;
  std::size_t first_line_end_ = 0;
  std::size_t fields_ = 0;
  std::size_t empty_lines_ = 0;
  bool first_line_seen_ = false;
};

/// Splits the vetted field lines of `section` (each ending in CRLF) into `out`, reusing its capacity.
inline void collect_fields(std::string_view section, header_list& out) {
  out.clear();
  while (!section.empty()) {
    const std::size_t cr = section.find('\r');
    const std::string_view line = section.substr(0, cr);
    const std::size_t colon = line.find(':');
    out.push_back({line.substr(0, colon), trim_ows(line.substr(colon + 1))});
    section.remove_prefix(cr + 2);
  }
}

}  // namespace detail

}  // namespace bb::http
