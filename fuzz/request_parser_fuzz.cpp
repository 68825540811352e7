// request_parser under libFuzzer. Input: one control byte, then a stream of pipelined
// requests. Traps when a verdict depends on how the bytes arrived, when an accepted head
// breaks an invariant, or when the head the proxy forwards parses differently from it.

#include "check.hpp"

#include "bb/http/body.hpp"
#include "bb/http/request_parser.hpp"
#include "bb/http/serialize.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace http = bb::http;
using bb::fuzz::inside;
using http::iequals;

namespace {

constexpr std::string_view client_ip = "127.0.0.1";

struct parsed {
  http::parse_result r;
  http::request_head h;
};

// Feeds `buf[0, split)` first when split is short of the end, then all of `buf`.
parsed parse(std::string_view buf, std::size_t split, const http::limits& lim = {}) {
  parsed p;
  http::request_parser parser(lim);
  if (split < buf.size()) p.r = parser.feed(buf.substr(0, split), p.h);
  p.r = parser.feed(buf, p.h);
  return p;
}

bool same_head(const http::request_head& a, const http::request_head& b) {
  return a.method == b.method && a.target == b.target && a.ver == b.ver && a.body == b.body &&
         a.content_length == b.content_length && a.keep_alive == b.keep_alive &&
         a.expect_continue == b.expect_continue && bb::fuzz::same_fields(a.headers, b.headers);
}

void check_invariants(std::string_view buf, const parsed& p, const http::limits& lim) {
  const auto& h = p.h;
  BB_FUZZ_CHECK(p.r.head_size <= buf.size() && p.r.head_size <= lim.max_head_bytes);
  const std::string_view head = buf.substr(0, p.r.head_size);
  BB_FUZZ_CHECK(head.ends_with("\r\n\r\n"));
  BB_FUZZ_CHECK(inside(head, h.method) && inside(head, h.target) && http::detail::is_token(h.method));
  BB_FUZZ_CHECK(!h.target.empty() && h.target.find_first_of(" \t\r\n") == std::string_view::npos);
  BB_FUZZ_CHECK(h.headers.size() <= lim.max_headers && bb::fuzz::fields_are_sound(head, h.headers));
  const std::size_t te = http::count_headers(h.headers, "transfer-encoding");
  const std::size_t cl = http::count_headers(h.headers, "content-length");
  BB_FUZZ_CHECK(te == 0 || cl == 0);
  switch (h.body) {
    case http::body_kind::none: BB_FUZZ_CHECK(te == 0 && cl == 0); break;
    case http::body_kind::content_length: BB_FUZZ_CHECK(cl > 0 && h.content_length <= lim.max_body_bytes); break;
    case http::body_kind::chunked: BB_FUZZ_CHECK(te > 0 && h.ver == http::version::http11); break;
    case http::body_kind::until_close: BB_FUZZ_CHECK(false); break;  // a request body always has an end
  }
  const std::size_t hosts = http::count_headers(h.headers, "host");
  BB_FUZZ_CHECK(hosts == 1 || (hosts == 0 && h.ver == http::version::http10));
  // Canonical forms (RFC 9112 §3.2, RFC 9110 §7.2), checked from the RFCs' words rather
  // than with the parser's own helpers: origin-form, `*` for OPTIONS, or scheme "://";
  // never a fragment; never CONNECT; a Host without a path, userinfo, space or quote.
  const std::string_view t = h.target;
  BB_FUZZ_CHECK(h.method != "CONNECT" && t.find('#') == std::string_view::npos);
  BB_FUZZ_CHECK(t[0] == '/' || (t == "*" && h.method == "OPTIONS") ||
                (t.find("://") != std::string_view::npos && t.find("://") > 0 && t.find('/') == t.find("://") + 1));
  if (const auto host = http::find_header(h.headers, "host"))
    BB_FUZZ_CHECK(host->find_first_of("/?#@\"<>\\ {}|^`") == std::string_view::npos);
  BB_FUZZ_CHECK(!h.expect_continue || h.ver == http::version::http11);
  if (http::connection_has_token(h.headers, "close")) BB_FUZZ_CHECK(!h.keep_alive);
}

// The differential check: the forwarded head parses to the same request, less what a hop drops.
void check_forwarded(const http::request_head& h, bool close, const http::limits& lim) {
  std::string out;
  http::append_forwarded_request(out, h, client_ip, close);
  // A request that asks to switch protocols (HTTP/1.1, an Upgrade field with a value, the
  // upgrade option in Connection: RFC 9110 §7.8) keeps Upgrade and says `Connection: upgrade`.
  const auto upgrade_to = http::find_header(h.headers, "upgrade");
  const bool upgrade = h.ver == http::version::http11 && http::connection_has_token(h.headers, "upgrade") &&
                       upgrade_to && !upgrade_to->empty();
  http::header_list want;
  std::string xff;
  // The body's framing goes as one canonical field where the first framing field was.
  std::string length_text = std::to_string(h.content_length);
  bool framed = false;
  for (const http::header& f : h.headers) {
    if (iequals(f.name, "content-length") || iequals(f.name, "transfer-encoding")) {
      if (framed) continue;
      framed = true;
      if (h.body == http::body_kind::chunked) want.push_back({"Transfer-Encoding", "chunked"});
      else want.push_back({"Content-Length", length_text});
    } else if (iequals(f.name, "x-forwarded-for")) {
      if (!f.value.empty()) (xff += xff.empty() ? "" : ", ") += f.value;
    } else if (!bb::fuzz::hop_by_hop(h.headers, f.name) || (upgrade && iequals(f.name, "upgrade"))) {
      want.push_back(f);
    }
  }
  // An HTTP/1.0 request without Host gains the one HTTP/1.1 requires (RFC 9112 §3.2).
  if (!http::find_header(h.headers, "host")) want.push_back({"Host", http::detail::authority_of(h.target)});
  (xff += xff.empty() ? "" : ", ") += client_ip;
  want.push_back({"X-Forwarded-For", xff});
  if (upgrade) want.push_back({"Connection", "upgrade"});
  if (close) want.push_back({"Connection", "close"});
  // The forwarded head may be a little longer than the limits the client was held to.
  http::limits roomy = lim;
  roomy.max_head_bytes = out.size() + 1;
  roomy.max_headers = want.size();
  const parsed again = parse(out, out.size(), roomy);
  if (again.r.st != http::parse_state::done) std::fprintf(stderr, "re-parse: %s\n", again.r.ec.message().c_str());
  BB_FUZZ_CHECK(again.r.st == http::parse_state::done && again.r.head_size == out.size());
  const auto& g = again.h;
  BB_FUZZ_CHECK(g.method == h.method && g.target == h.target && g.ver == http::version::http11);
  BB_FUZZ_CHECK(g.body == h.body && g.content_length == h.content_length && g.keep_alive == !close);
  BB_FUZZ_CHECK(bb::fuzz::same_fields(g.headers, want));
  // No framing field upstream but the one canonical field: `Transfer-Encoding: chunked`
  // or `Content-Length: <digits without leading zeros>`, never a list.
  std::size_t framing = 0;
  for (const http::header& f : g.headers) {
    if (iequals(f.name, "transfer-encoding")) {
      ++framing;
      BB_FUZZ_CHECK(f.value == "chunked");
    }
    if (iequals(f.name, "content-length")) {
      ++framing;
      BB_FUZZ_CHECK(f.value == length_text);
    }
  }
  BB_FUZZ_CHECK(framing == (h.body == http::body_kind::none ? 0u : 1u));
  if (h.ver == http::version::http11 && !http::connection_has_token(h.headers, "expect")) {
    BB_FUZZ_CHECK(g.expect_continue == h.expect_continue);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned control = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const http::limits lim;
  for (int n = 0; n < 8; ++n) {
    const std::size_t split = rest.size() * ((control + 37u * n) % 256u) / 255u;
    const parsed whole = parse(rest, rest.size(), lim);
    const parsed cut = parse(rest, split, lim);
    BB_FUZZ_CHECK(whole.r.st == cut.r.st && whole.r.head_size == cut.r.head_size && whole.r.ec == cut.r.ec);
    if (whole.r.st != http::parse_state::done) return 0;
    BB_FUZZ_CHECK(same_head(whole.h, cut.h));
    check_invariants(rest, whole, lim);
    check_forwarded(whole.h, (control & 1u) != 0, lim);
    rest.remove_prefix(whole.r.head_size);
    auto body = http::body_framer::for_head(whole.h.body, whole.h.content_length, lim.max_body_bytes);
    const auto step = body.consume(rest);
    BB_FUZZ_CHECK(step.used <= rest.size());
    if (!step.done) return 0;
    rest.remove_prefix(step.used);
  }
  return 0;
}
