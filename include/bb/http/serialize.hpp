#pragma once
// Writes the heads the proxy forwards and the proxy's own error responses. Bodies are not
// touched here: the proxy forwards them byte for byte, framed as the parsed head says, or
// de-chunked for an HTTP/1.0 client (dechunks_for).

#include "bb/http/error.hpp"
#include "bb/http/message.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace bb::http {

namespace detail {

/// Appends the decimal form of `n`.
inline void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  static_cast<void>(ec);  // 20 digits hold every uint64_t
  out.append(digits, end);
}

/// Appends `name: value CRLF`.
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

/// True for a field that describes this hop only and so must not be forwarded (RFC 9110 §7.6.1).
// Host and the framing fields are kept even when Connection names them: a proxy that drops
// Transfer-Encoding because "Connection: Transfer-Encoding" asked it to would forward a
// chunked body unframed, which is exactly how requests get smuggled.
inline bool is_hop_by_hop(const header_list& headers, std::string_view name) noexcept {
  if (iequals(name, "host") || iequals(name, "content-length") || iequals(name, "transfer-encoding")) return false;
  for (std::string_view fixed : {"connection", "keep-alive", "te", "trailer", "upgrade", "proxy-connection"}) {
    if (iequals(name, fixed)) return true;
  }
  return connection_has_token(headers, name);
}

/// The authority of an absolute-form target ("http://a.example:8080/x" -> "a.example:8080"),
/// or empty for any other form.
inline std::string_view authority_of(std::string_view target) noexcept {
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || target.find('/') < scheme_end) return {};
  auto rest = target.substr(scheme_end + 3);
  return rest.substr(0, std::min(rest.find('/'), rest.find('?')));
}

/// Appends one Transfer-Encoding field listing the codings of `headers` without the final
/// chunked, or nothing when chunked was the only one.
inline void append_codings_but_chunked(std::string& out, const header_list& headers) {
  std::size_t codings = 0;
  std::string_view last;
  auto each_coding = [&](auto&& fn) {
    for (const header& f : headers) {
      if (!iequals(f.name, "transfer-encoding")) continue;
      for_each_list_element(f.value, [&](std::string_view c) {
        if (!c.empty()) fn(c);
      });
    }
  };
  each_coding([&](std::string_view c) { ++codings, last = c; });
  const std::size_t kept = iequals(last, "chunked") ? codings - 1 : codings;
  if (kept == 0) return;
  out.append("Transfer-Encoding: ");
  std::size_t i = 0;
  each_coding([&](std::string_view c) {
    if (i >= kept) return;
    if (i++ > 0) out.append(", ");
    out.append(c);
  });
  out.append("\r\n");
}

}  // namespace detail

/// True when `h` asks to switch protocols (RFC 9110 §7.8): HTTP/1.1 (an HTTP/1.0 request's
/// Upgrade is ignored), an Upgrade field, and the upgrade option in Connection. The proxy
/// then forwards Upgrade and tunnels the connection should the upstream answer 101.
inline bool wants_upgrade(const request_head& h) noexcept {
  if (h.ver != version::http11 || !connection_has_token(h.headers, "upgrade")) return false;
  const auto u = find_header(h.headers, "upgrade");
  return u && !u->empty();
}

/// True when the response's chunked framing is taken off for the client: an HTTP/1.0 client
/// cannot decode chunked (RFC 9112 §6.1 forbids sending it Transfer-Encoding), so it gets the
/// chunk data alone, delimited by closing the connection, and no trailers.
inline bool dechunks_for(const response_head& h, version client_version) noexcept {
  return client_version == version::http10 && h.body == body_kind::chunked;
}

namespace detail {

/// True for the fields that frame a body (Content-Length, Transfer-Encoding).
inline bool is_framing_field(std::string_view name) noexcept {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding");
}

/// Appends the one framing field `kind` and `length` call for, in canonical form:
/// `Content-Length: N` (however many equal values came, RFC 9110 §8.6) or
/// `Transfer-Encoding: chunked` (empty list elements dropped); nothing for no body.
inline void append_canonical_framing(std::string& out, body_kind kind, std::uint64_t length) {
  if (kind == body_kind::content_length) {
    out.append("Content-Length: ");
    append_number(out, length);
    out.append("\r\n");
  } else if (kind == body_kind::chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
}

}  // namespace detail

/// Appends the request head forwarded upstream: HTTP/1.1, end-to-end fields, its framing
/// as one canonical field where the first framing field was (see append_canonical_framing:
/// any server reads the body the proxy frames, and only that), one merged X-Forwarded-For;
/// Upgrade and `Connection: upgrade` too when the client wants_upgrade. A non-empty
/// `request_id` replaces every X-Request-Id field the client sent with one of that value.
inline void append_forwarded_request(std::string& out, const request_head& h, std::string_view client_ip, bool close,
                                     std::string_view request_id = {}) {
  out.append(h.method);
  out.push_back(' ');
  out.append(h.target);
  out.append(" HTTP/1.1\r\n");
  const bool upgrade = wants_upgrade(h);
  bool framed = false;
  for (const header& f : h.headers) {
    if (iequals(f.name, "x-forwarded-for")) continue;
    if (!request_id.empty() && iequals(f.name, "x-request-id")) continue;
    if (detail::is_framing_field(f.name)) {
      if (!std::exchange(framed, true)) detail::append_canonical_framing(out, h.body, h.content_length);
      continue;
    }
    if (detail::is_hop_by_hop(h.headers, f.name) && !(upgrade && iequals(f.name, "upgrade"))) continue;
    detail::append_field(out, f.name, f.value);
  }
  // HTTP/1.1 requires Host (RFC 9112 §3.2); an HTTP/1.0 client may omit it. Then it is the
  // authority of an absolute-form target, or empty, as the RFC says for a target without one.
  if (!find_header(h.headers, "host")) detail::append_field(out, "Host", detail::authority_of(h.target));
  // Earlier proxies' X-Forwarded-For fields become one list, oldest hop first, then this client.
  const std::size_t mark = out.size();
  out.append("X-Forwarded-For: ");
  bool any = false;
  auto add = [&](std::string_view v) {
    if (v.empty()) return;
    if (any) out.append(", ");
    out.append(v);
    any = true;
  };
  for (const header& f : h.headers) {
    if (iequals(f.name, "x-forwarded-for")) add(f.value);
  }
  add(client_ip);
  if (any) out.append("\r\n");
  else out.resize(mark);
  if (!request_id.empty()) detail::append_field(out, "X-Request-Id", request_id);
  if (upgrade) out.append("Connection: upgrade\r\n");
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
}

/// Appends the response head forwarded to the client, with the Connection field this hop
/// needs: for a 101, Upgrade and `Connection: upgrade` (`keep_alive_to_client` is then
/// moot); for an HTTP/1.0 client, Transfer-Encoding without its final chunked (see
/// dechunks_for; the caller closes the connection after such a body).
/// `extra` is already formatted `Name: value\r\n` lines (may be empty).
inline void append_forwarded_response(std::string& out, const response_head& h, bool keep_alive_to_client,
                                      version client_version, std::string_view extra = {}) {
  out.append("HTTP/1.1 ");
  detail::append_number(out, static_cast<std::uint64_t>(h.status));
  out.push_back(' ');
  out.append(h.reason.empty() ? reason_phrase(h.status) : h.reason);
  out.append("\r\n");
  const bool has_codings = find_header(h.headers, "transfer-encoding").has_value();
  // RFC 9112 §6.3: an intermediary forwarding a message with Transfer-Encoding MUST drop Content-Length.
  const bool drop_length = (h.body == body_kind::chunked || h.body == body_kind::until_close) && has_codings;
  const bool switching = h.status == 101;
  const bool recode = client_version == version::http10 && has_codings;
  // A body framed by Content-Length goes with one `Content-Length: N`, however it came.
  const bool canonical_length = h.body == body_kind::content_length;
  bool length_sent = false;
  for (const header& f : h.headers) {
    if (detail::is_hop_by_hop(h.headers, f.name) && !(switching && iequals(f.name, "upgrade"))) continue;
    if (drop_length && iequals(f.name, "content-length")) continue;
    if (canonical_length && iequals(f.name, "content-length")) {
      if (!std::exchange(length_sent, true)) detail::append_canonical_framing(out, h.body, h.content_length);
      continue;
    }
    if (recode && iequals(f.name, "transfer-encoding")) continue;
    detail::append_field(out, f.name, f.value);
  }
  if (recode) detail::append_codings_but_chunked(out, h.headers);
  if (switching) out.append("Connection: upgrade\r\n");
  else if (!keep_alive_to_client) out.append("Connection: close\r\n");
  else if (client_version == version::http10) out.append("Connection: keep-alive\r\n");
  out.append(extra);
  out.append("\r\n");
}

/// The proxy's own text/plain answer; `extra` is already formatted `Name: value\r\n` lines.
/// To a HEAD request (`head`) it has no body, only the Content-Length the body would have
/// (RFC 9110 §9.3.2): a client reads no body after a HEAD answer, whatever its fields say.
inline std::string make_error_response(int status, std::string_view message, bool close, std::string_view extra = {},
                                       bool head = false) {
  std::string out;
  out.reserve(96 + message.size() + extra.size());
  out.append("HTTP/1.1 ");
  detail::append_number(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\nContent-Type: text/plain\r\nContent-Length: ");
  detail::append_number(out, message.size() + 1);
  out.append("\r\n");
  if (close) out.append("Connection: close\r\n");
  out.append(extra);
  out.append("\r\n");
  if (head) return out;
  out.append(message);
  out.push_back('\n');
  return out;
}

}  // namespace bb::http
