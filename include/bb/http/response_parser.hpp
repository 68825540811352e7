#pragma once
// bb::http::response_parser: response heads, one at a time, from a buffer that grows.

#include "bb/http/error.hpp"
#include "bb/http/framing.hpp"
#include "bb/http/head_scanner.hpp"
#include "bb/http/limits.hpp"
#include "bb/http/message.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace bb::http {

/// Parses one response head at a time from a buffer that grows between calls.
class response_parser {
public:
  using state = parse_state;    ///< what a feed() concluded
  using result = parse_result;  ///< the outcome of one feed()

  /// A parser for the first response on an upstream connection.
  explicit response_parser(limits l = {}) noexcept : limits_(l) {}

  /// Continues parsing; `request_was_head` says the response cannot have a body.
  /// Once done or failed, returns that same result until reset(); on done, `out` views `buffered`.
  result feed(std::string_view buffered, response_head& out, bool request_was_head) {
    if (last_.st != state::need_more) return last_;
    last_ = scanner_.scan(buffered, limits_, rules, [this](std::string_view line) { return parse_line(line); });
    if (last_.st == state::done) {
      if (const std::error_code ec = finish(buffered, out, request_was_head)) last_ = {state::failed, 0, ec};
    }
    return last_;
  }

  /// Prepares for the next response (after a 1xx, or the next request on the connection).
  void reset() noexcept {
    scanner_ = {};
    last_ = {};
  }

private:
  static constexpr detail::head_rules rules{false, error::bad_status_line, error::header_too_large};

  // `HTTP/1.x SP 3DIGIT [SP reason]`; the SP may be missing when the reason is.
  std::error_code parse_line(std::string_view line) noexcept {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) return error::bad_status_line;
    if (line.substr(0, 8) == "HTTP/1.1") ver_ = version::http11;
    else if (line.substr(0, 8) == "HTTP/1.0") ver_ = version::http10;
    else return error::bad_status_line;
    if (!digit(line[9]) || !digit(line[10]) || !digit(line[11])) return error::bad_status_line;
    status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status_ < 100 || status_ > 599) return error::bad_status_line;
    return {};
  }

  std::error_code finish(std::string_view buffered, response_head& out, bool request_was_head) const {
    const std::size_t begin = scanner_.first_line_begin();
    const std::size_t end = scanner_.first_line_end();
    out.ver = ver_;
    out.status = status_;
    out.reason = buffered.substr(std::min(begin + 13, end), end - std::min(begin + 13, end));
    detail::collect_fields(buffered.substr(end + 2, last_.head_size - 2 - (end + 2)), out.headers);
    return detail::frame_response(out, request_was_head);
  }

  limits limits_;
  detail::head_scanner scanner_;
  result last_;
  version ver_ = version::http11;
  int status_ = 0;
};

}  // namespace bb::http
