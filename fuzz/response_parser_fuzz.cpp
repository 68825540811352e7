// response_parser under libFuzzer. Input: one control byte (bit 0: the request was HEAD,
// bit 1: keep the client connection, bit 2: the client speaks HTTP/1.0, bit 3: extra fields,
// the rest: where to split), then a stream of responses on one connection. Traps when a
// verdict depends on how the bytes arrived, when an accepted head breaks an invariant, or
// when the head the proxy forwards parses differently from it.

#include "check.hpp"

#include "bb/http/body.hpp"
#include "bb/http/response_parser.hpp"
#include "bb/http/serialize.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace http = bb::http;
using bb::fuzz::inside;

namespace {

struct parsed {
  http::parse_result r;
  http::response_head h;
};

// Feeds `buf[0, split)` first when split is short of the end, then all of `buf`.
parsed parse(std::string_view buf, std::size_t split, bool was_head, const http::limits& lim = {}) {
  parsed p;
  http::response_parser parser(lim);
  if (split < buf.size()) p.r = parser.feed(buf.substr(0, split), p.h, was_head);
  p.r = parser.feed(buf, p.h, was_head);
  return p;
}

bool same_head(const http::response_head& a, const http::response_head& b) {
  return a.ver == b.ver && a.status == b.status && a.reason == b.reason && a.body == b.body &&
         a.content_length == b.content_length && a.keep_alive == b.keep_alive &&
         bb::fuzz::same_fields(a.headers, b.headers);
}

void check_invariants(std::string_view buf, const parsed& p, bool was_head) {
  const auto& h = p.h;
  BB_FUZZ_CHECK(p.r.head_size <= buf.size());
  const std::string_view head = buf.substr(0, p.r.head_size);
  BB_FUZZ_CHECK(head.ends_with("\r\n\r\n") && inside(head, h.reason));
  BB_FUZZ_CHECK(h.status >= 100 && h.status <= 599 && bb::fuzz::fields_are_sound(head, h.headers));
  const bool te = http::find_header(h.headers, "transfer-encoding").has_value();
  const bool bodiless = was_head || h.status < 200 || h.status == 204 || h.status == 304;
  if (bodiless) BB_FUZZ_CHECK(h.body == http::body_kind::none);
  switch (h.body) {
    case http::body_kind::none: BB_FUZZ_CHECK(bodiless); break;
    case http::body_kind::content_length: BB_FUZZ_CHECK(!te && http::find_header(h.headers, "content-length")); break;
    case http::body_kind::chunked: BB_FUZZ_CHECK(te && h.ver == http::version::http11); break;
    case http::body_kind::until_close: BB_FUZZ_CHECK(!h.keep_alive); break;
  }
  if (http::connection_has_token(h.headers, "close")) BB_FUZZ_CHECK(!h.keep_alive);
  // A body is never framed by codings that are not tokens or apply chunked twice (502 instead).
  if (te && !bodiless) {
    const auto codings = http::detail::transfer_codings_of(h.headers);
    BB_FUZZ_CHECK(!codings.malformed && codings.chunked <= 1);
  }
}

// The codings of the Transfer-Encoding fields less a final chunked, as one list ("" for none):
// what an HTTP/1.0 client is told of a body whose chunked framing the proxy takes off.
std::string codings_but_chunked(const http::header_list& fields) {
  std::vector<std::string_view> codings;
  for (const http::header& f : fields) {
    if (!http::iequals(f.name, "transfer-encoding")) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view c = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
      while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.remove_suffix(1);
      if (!c.empty()) codings.push_back(c);
    }
  }
  if (!codings.empty() && http::iequals(codings.back(), "chunked")) codings.pop_back();
  std::string list;
  for (std::string_view c : codings) (list += list.empty() ? "" : ", ") += c;
  return list;
}

// The differential check: the forwarded head parses to the same response, less what a hop
// drops, called as the proxy calls it (proxy/forwarder.hpp): a de-chunked body is never kept.
void check_forwarded(const http::response_head& h, unsigned control) {
  const bool was_head = (control & 1u) != 0;
  const auto client_ver = (control & 4u) != 0 ? http::version::http10 : http::version::http11;
  // An HTTP/1.0 client gets chunk data alone, delimited by the close of the connection.
  const bool dechunk = client_ver == http::version::http10 && h.body == http::body_kind::chunked;
  const bool keep = (control & 2u) != 0 && !dechunk;
  const std::string_view extra = (control & 8u) != 0 ? "X-Extra: 1\r\nVia: 1.1 bb\r\n" : "";
  std::string out;
  http::append_forwarded_response(out, h, keep, client_ver, extra);
  const bool has_codings = http::find_header(h.headers, "transfer-encoding").has_value();
  // A body framed by Transfer-Encoding goes out without Content-Length (RFC 9112 §6.3).
  const bool by_coding = (h.body == http::body_kind::chunked || h.body == http::body_kind::until_close) && has_codings;
  // An HTTP/1.0 client is never sent chunked (RFC 9112 §6.1): its codings go without it.
  const bool recode = client_ver == http::version::http10 && has_codings;
  // A 101 makes the connection a tunnel: Upgrade goes through, with `Connection: upgrade`.
  const bool switching = h.status == 101;
  http::header_list want;
  // A body framed by Content-Length goes with one `Content-Length: N` where the first was.
  const std::string length_text = std::to_string(h.content_length);
  bool length_sent = false;
  for (const http::header& f : h.headers) {
    if (bb::fuzz::hop_by_hop(h.headers, f.name) && !(switching && http::iequals(f.name, "upgrade"))) continue;
    if (by_coding && http::iequals(f.name, "content-length")) continue;
    if (recode && http::iequals(f.name, "transfer-encoding")) continue;
    if (h.body == http::body_kind::content_length && http::iequals(f.name, "content-length")) {
      if (!length_sent) want.push_back({"Content-Length", length_text});
      length_sent = true;
      continue;
    }
    want.push_back(f);
  }
  const std::string codings = recode ? codings_but_chunked(h.headers) : std::string();
  if (!codings.empty()) want.push_back({"Transfer-Encoding", codings});
  if (switching) want.push_back({"Connection", "upgrade"});
  else if (!keep) want.push_back({"Connection", "close"});
  else if (client_ver == http::version::http10) want.push_back({"Connection", "keep-alive"});
  if (!extra.empty()) want.insert(want.end(), {{"X-Extra", "1"}, {"Via", "1.1 bb"}});
  http::limits roomy;
  roomy.max_head_bytes = out.size() + 1;
  roomy.max_headers = want.size();
  const parsed again = parse(out, out.size(), was_head, roomy);
  if (again.r.st != http::parse_state::done) std::fprintf(stderr, "re-parse: %s\n", again.r.ec.message().c_str());
  BB_FUZZ_CHECK(again.r.st == http::parse_state::done && again.r.head_size == out.size());
  const auto& g = again.h;
  BB_FUZZ_CHECK(g.ver == http::version::http11 && g.status == h.status);
  BB_FUZZ_CHECK(g.reason == (h.reason.empty() ? http::reason_phrase(h.status) : h.reason));
  // De-chunked, the body has no framing left but the end of the connection.
  const auto body = dechunk ? http::body_kind::until_close : h.body;
  BB_FUZZ_CHECK(g.body == body && g.content_length == h.content_length);
  BB_FUZZ_CHECK(g.keep_alive == (switching || (keep && body != http::body_kind::until_close)));
  BB_FUZZ_CHECK(bb::fuzz::same_fields(g.headers, want));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned control = data[0];
  const bool was_head = (control & 1u) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (int n = 0; n < 8; ++n) {
    const std::size_t split = rest.size() * (((control >> 4) * 17u + 37u * n) % 256u) / 255u;
    const parsed whole = parse(rest, rest.size(), was_head);
    const parsed cut = parse(rest, split, was_head);
    BB_FUZZ_CHECK(whole.r.st == cut.r.st && whole.r.head_size == cut.r.head_size && whole.r.ec == cut.r.ec);
    if (whole.r.st != http::parse_state::done) return 0;
    BB_FUZZ_CHECK(same_head(whole.h, cut.h));
    check_invariants(rest, whole, was_head);
    check_forwarded(whole.h, control);
    rest.remove_prefix(whole.r.head_size);
    // After a 1xx the final response follows; after a final one, its body and the next response.
    auto body = http::body_framer::for_head(whole.h.body, whole.h.content_length);
    const auto step = body.consume(rest);
    BB_FUZZ_CHECK(step.used <= rest.size());
    if (!step.done) return 0;
    rest.remove_prefix(step.used);
  }
  return 0;
}
