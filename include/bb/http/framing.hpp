#pragma once
// How a parsed head frames its body, and what it says about the connection (RFC 9110
// §8.6, RFC 9112 §6): the rules both parsers apply once a head is complete, stricter than
// common proxies on purpose: every framing ambiguity a smuggler could use is an error.

#include "bb/http/error.hpp"
#include "bb/http/limits.hpp"
#include "bb/http/message.hpp"
#include "bb/http/target.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace bb::http::detail {

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

}  // namespace bb::http::detail
