#pragma once
// bb::http::request_parser: request heads, one at a time, from a buffer that grows.

#include "bb/http/error.hpp"
#include "bb/http/framing.hpp"
#include "bb/http/head_scanner.hpp"
#include "bb/http/limits.hpp"
#include "bb/http/message.hpp"
#include "bb/http/target.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace bb::http {

/// Parses one request head at a time from a buffer that grows between calls.
// Feed the whole buffered head each time (same prefix plus new bytes); only new bytes are
// scanned, and the field lines are split once, when the head is complete.
class request_parser {
public:
  using state = parse_state;    ///< what a feed() concluded
  using result = parse_result;  ///< the outcome of one feed()

  /// A parser for the first request of a connection.
  explicit request_parser(limits l = {}) noexcept : limits_(l) {}

  /// Continues parsing; once done or failed, returns that same result until reset().
  /// On done, the views in `out` point into `buffered`.
  result feed(std::string_view buffered, request_head& out) {
    if (last_.st != state::need_more) return last_;
    last_ = scanner_.scan(buffered, limits_, rules, [this](std::string_view line) { return parse_line(line); });
    if (last_.st == state::done) {
      if (const std::error_code ec = finish(buffered, out)) last_ = {state::failed, 0, ec};
    }
    return last_;
  }

  /// Prepares for the next request on the connection; the caller drops the last head_size bytes first.
  void reset() noexcept {
    scanner_ = {};
    last_ = {};
  }

private:
  static constexpr detail::head_rules rules{true, error::bad_request_line, error::uri_too_long};

  std::error_code parse_line(std::string_view line) noexcept {
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == sp2) return error::bad_request_line;
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const bool visible = std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!detail::is_token(line.substr(0, sp1)) || target.empty() || !visible) return error::bad_request_line;
    method_size_ = sp1;
    target_size_ = target.size();
    if (const auto ec = detail::parse_request_version(line.substr(sp2 + 1), ver_)) return ec;
    return check_target(line.substr(0, sp1), target);
  }

  std::error_code finish(std::string_view buffered, request_head& out) const {
    const std::size_t begin = scanner_.first_line_begin();
    const std::size_t end = scanner_.first_line_end();
    out.method = buffered.substr(begin, method_size_);
    out.target = buffered.substr(begin + method_size_ + 1, target_size_);
    out.ver = ver_;
    detail::collect_fields(buffered.substr(end + 2, last_.head_size - 2 - (end + 2)), out.headers);
    return detail::frame_request(out, limits_);
  }

  limits limits_;
  detail::head_scanner scanner_;
  result last_;
  // Offsets rather than views, because the caller's buffer may move between feeds.
  std::size_t method_size_ = 0;
  std::size_t target_size_ = 0;
  version ver_ = version::http11;
};

}  // namespace bb::http
