#pragma once
// Incremental parsers for request and response heads (RFC 9110, RFC 9112). They are stricter
// than common proxies on purpose: every framing ambiguity a request smuggler could use is an
// error here rather than a guess.

#include "bb/http/error.hpp"
#include "bb/http/message.hpp"
#include "bb/http/target.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace bb::http {

/// Bounds on what a peer may send, so that a hostile peer costs bounded memory and time.
struct limits {
  std::size_t max_head_bytes = 16 * 1024;       ///< whole head incl. skipped leading CRLFs and the final CRLFCRLF
  std::size_t max_headers = 100;                ///< field lines per head
  std::uint64_t max_body_bytes = 100ull << 20;  ///< request bodies only; response bodies are not bounded
};

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
  std::optional<parse_result> end_line(std::string_view buf, std::size_t cr, const limits& lim,
                                       const head_rules& rules, FirstLineFn& on_first_line) {
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

/// Parses 1*DIGIT; at most 19 digits, so the value always fits 64 bits.
constexpr bool parse_decimal(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

/// All Content-Length fields of a head folded into one value.
struct length_field {
  bool present = false;
  std::uint64_t value = 0;
  std::error_code ec;
};

/// Folds every Content-Length field; equal duplicates (`5, 5` or two fields) count once (RFC 9110 §8.6).
inline length_field content_length_of(const header_list& headers) {
  length_field f;
  bool have_value = false;
  bool malformed = false;
  bool conflict = false;
  for (const header& h : headers) {
    if (!iequals(h.name, "content-length")) continue;
    f.present = true;
    for_each_list_element(h.value, [&](std::string_view element) {
      std::uint64_t v = 0;
      if (!parse_decimal(element, v)) {
        malformed = true;
      } else if (!have_value) {
        have_value = true;
        f.value = v;
      } else if (v != f.value) {
        conflict = true;
      }
    });
  }
  if (malformed) f.ec = error::bad_content_length;
  else if (conflict) f.ec = error::conflicting_content_length;
  return f;
}

/// What the Transfer-Encoding fields of a head, read as one list, say.
struct coding_list {
  bool present = false;
  bool malformed = false;  // an element that is not a bare token (parameters included)
  unsigned others = 0;     // codings other than chunked
  unsigned chunked = 0;
  bool final_chunked = false;
};

/// Reads every Transfer-Encoding field as one comma list, skipping empty elements (RFC 9110 §5.6.1).
inline coding_list transfer_codings_of(const header_list& headers) {
  coding_list c;
  for (const header& h : headers) {
    if (!iequals(h.name, "transfer-encoding")) continue;
    c.present = true;
    for_each_list_element(h.value, [&](std::string_view coding) {
      if (coding.empty()) return;
      c.final_chunked = false;
      if (!is_token(coding)) {
        c.malformed = true;
      } else if (iequals(coding, "chunked")) {
        ++c.chunked;
        c.final_chunked = true;
      } else {
        ++c.others;
      }
    });
  }
  return c;
}

/// Whether the sender allows another message on the connection, from its version and Connection tokens.
inline bool keep_alive_of(version ver, const header_list& headers) noexcept {
  if (connection_has_token(headers, "close")) return false;
  return ver == version::http11 || connection_has_token(headers, "keep-alive");
}

/// Parses exactly `HTTP/1.1` or `HTTP/1.0`; any other `HTTP/d.d` is well-formed but unsupported.
inline std::error_code parse_request_version(std::string_view v, version& out) noexcept {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !digit(v[5]) || v[6] != '.' || !digit(v[7])) {
    return error::bad_version;
  }
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) return error::unsupported_version;
  out = v[7] == '1' ? version::http11 : version::http10;
  return {};
}

/// Decides a request's framing, Host, keep-alive and Expect (RFC 9112 §3.2, §6.1, §6.3, §9.3).
inline std::error_code frame_request(request_head& h, const limits& lim) {
  h.body = body_kind::none;
  h.content_length = 0;
  const std::size_t hosts = count_headers(h.headers, "host");
  if (hosts > 1 || (hosts == 0 && h.ver == version::http11)) return error::bad_header;
  if (hosts == 1 && !is_valid_host(*find_header(h.headers, "host"))) return error::bad_host;
  const coding_list te = transfer_codings_of(h.headers);
  const length_field cl = content_length_of(h.headers);
  if (te.present && cl.present) return error::content_length_and_transfer_encoding;
  if (te.present) {
    if (h.ver == version::http10 || te.malformed || te.chunked != 1 || !te.final_chunked) {
      return error::bad_transfer_encoding;
    }
    // Only chunked alone goes upstream (as exactly `chunked`): the proxy decodes no other
    // coding, and a server that did would read a body the proxy framed differently.
    if (te.others) return error::unsupported_transfer_encoding;
    h.body = body_kind::chunked;
  } else if (cl.present) {
    if (cl.ec) return cl.ec;
    if (cl.value > lim.max_body_bytes) return error::body_too_large;
    h.body = body_kind::content_length;
    h.content_length = cl.value;
  }
  h.keep_alive = keep_alive_of(h.ver, h.headers);
  // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request MUST be ignored.
  h.expect_continue = false;
  for (const header& f : h.headers) {
    if (h.ver != version::http11 || !iequals(f.name, "expect")) continue;
    for_each_list_element(f.value, [&](std::string_view e) {
      if (iequals(e, "100-continue")) h.expect_continue = true;
    });
  }
  return {};
}

/// Decides a response's framing and keep-alive (RFC 9112 §6.3); fields of bodiless responses are not checked.
inline std::error_code frame_response(response_head& h, bool request_was_head) {
  h.body = body_kind::none;
  h.content_length = 0;
  h.keep_alive = keep_alive_of(h.ver, h.headers);
  const bool bodiless = request_was_head || h.status < 200 || h.status == 204 || h.status == 304;
  if (!bodiless) {
    const coding_list te = transfer_codings_of(h.headers);
    if (te.present) {
      // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means its framing is faulty,
      // and chunked is never applied twice. A coding that is no token (`chunked;x`) leaves no
      // telling how the client would frame the body we pass on with it.
      if (h.ver == version::http10 || te.malformed || te.chunked > 1) return error::bad_transfer_encoding;
      h.body = te.final_chunked ? body_kind::chunked : body_kind::until_close;
    } else if (const length_field cl = content_length_of(h.headers); cl.present) {
      if (cl.ec) return cl.ec;
      h.body = body_kind::content_length;
      h.content_length = cl.value;
    } else {
      h.body = body_kind::until_close;
    }
  }
  if (h.body == body_kind::until_close) h.keep_alive = false;
  return {};
}

}  // namespace detail

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
