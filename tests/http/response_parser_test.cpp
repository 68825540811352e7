#include "bb/http/response_parser.hpp"

#include <catch2/catch.hpp>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

using bb::http::body_kind;
using bb::http::error;
using bb::http::limits;
using bb::http::parse_state;
using bb::http::response_head;
using bb::http::response_parser;
using bb::http::version;

namespace {

// Everything a feed() tells the caller, copied out of the buffer so outcomes compare by value.
struct outcome {
  parse_state st = parse_state::need_more;
  std::size_t head_size = 0;
  std::error_code ec;
  version ver = version::http11;
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  body_kind body = body_kind::none;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
  os << "{st=" << static_cast<int>(o.st) << " head_size=" << o.head_size << " ec=" << o.ec.message()
     << " status=" << o.status << " reason=" << o.reason << " body=" << static_cast<int>(o.body)
     << " cl=" << o.content_length << " keep_alive=" << o.keep_alive << " headers=" << o.headers.size() << "}";
  return os;
}

outcome snapshot(const response_parser::result& r, const response_head& h) {
  outcome o;
  o.st = r.st;
  o.head_size = r.head_size;
  o.ec = r.ec;
  if (r.st != parse_state::done) return o;
  o.ver = h.ver;
  o.status = h.status;
  o.reason = h.reason;
  for (const auto& f : h.headers) o.headers.emplace_back(f.name, f.value);
  o.body = h.body;
  o.content_length = h.content_length;
  o.keep_alive = h.keep_alive;
  return o;
}

// Parses `input` whole, then for every k the first k bytes followed by the whole input, then all
// prefixes in turn on one parser; every path must reach the whole-input outcome, which is returned.
outcome parse(const std::string& input, bool request_was_head = false, limits lim = {}) {
  response_parser whole_parser(lim);
  response_head whole_head;
  const outcome whole = snapshot(whole_parser.feed(input, whole_head, request_was_head), whole_head);
  for (std::size_t k = 0; k <= input.size(); ++k) {
    INFO("split at " << k << " of " << input.size());
    response_parser p(lim);
    response_head h;
    const std::string prefix = input.substr(0, k);
    const auto first = p.feed(prefix, h, request_was_head);
    outcome got = snapshot(first, h);
    if (first.st == parse_state::need_more) got = snapshot(p.feed(input, h, request_was_head), h);
    REQUIRE(got == whole);
  }
  response_parser p(lim);
  response_head h;
  std::string grown;
  response_parser::result r;
  for (char c : input) {
    grown.push_back(c);
    r = p.feed(grown, h, request_was_head);
    if (r.st != parse_state::need_more) break;
  }
  REQUIRE(snapshot(r, h) == whole);
  return whole;
}

}  // namespace

TEST_CASE("response_parser reads the status line, reason and fields", "[http][parser]") {
  const std::string head = "HTTP/1.1 404 Not Found\r\nServer: x\r\nContent-Length: 3\r\n\r\n";
  const outcome o = parse(head + "abc");
  REQUIRE(o.st == parse_state::done);
  CHECK(o.head_size == head.size());
  CHECK(o.ver == version::http11);
  CHECK(o.status == 404);
  CHECK(o.reason == "Not Found");
  CHECK(o.headers == std::vector<std::pair<std::string, std::string>>{{"Server", "x"}, {"Content-Length", "3"}});
}

TEST_CASE("response_parser accepts an empty or missing reason", "[http][parser]") {
  const std::string input = GENERATE(std::string("HTTP/1.1 200\r\n\r\n"), std::string("HTTP/1.1 200 \r\n\r\n"));
  INFO(input);
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.status == 200);
  CHECK(o.reason.empty());
}

TEST_CASE("response_parser frames the body as RFC 9112 section 6.3 says", "[http][parser]") {
  const auto [input, request_was_head, body, length,
              keep_alive] = GENERATE(table<std::string, bool, body_kind, std::uint64_t, bool>({
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, body_kind::content_length, 5, true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", false, body_kind::content_length, 5, true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, body_kind::content_length, 0, true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, body_kind::none, 0, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, body_kind::none, 0, true},
      {"HTTP/1.1 100 Continue\r\n\r\n", false, body_kind::none, 0, true},
      {"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", false, body_kind::none, 0, true},
      {"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", false, body_kind::none, 0, true},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n", false, body_kind::none, 0, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, body_kind::chunked, 0, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, body_kind::chunked, 0, true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false, body_kind::chunked, 0,
       true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, body_kind::until_close, 0, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false, body_kind::until_close, 0, false},
      {"HTTP/1.1 200 OK\r\n\r\n", false, body_kind::until_close, 0, false},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", false, body_kind::content_length, 1, false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false, body_kind::content_length, 1, false},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", false, body_kind::content_length, 1,
       true},
  }));
  INFO(input << " request_was_head=" << request_was_head);
  const outcome o = parse(input, request_was_head);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.body == body);
  CHECK(o.content_length == length);
  CHECK(o.keep_alive == keep_alive);
}

TEST_CASE("response_parser parses the final response after a 1xx once reset", "[http][parser]") {
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string final_head = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  const std::string buffer = interim + final_head;
  response_parser p;
  response_head h;
  auto r = p.feed(buffer, h, false);
  REQUIRE(r.st == parse_state::done);
  REQUIRE(r.head_size == interim.size());
  CHECK(h.status == 100);
  p.reset();
  r = p.feed(std::string_view(buffer).substr(interim.size()), h, false);
  REQUIRE(r.st == parse_state::done);
  CHECK(r.head_size == final_head.size());
  CHECK(h.status == 201);
}

TEST_CASE("response_parser rejects every malformed head with its error", "[http][parser]") {
  const auto [input, expected] = GENERATE(table<std::string, error>({
      {"HTTP/1.1 99 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1 099 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1 600 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1 2000 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1 20x OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1  200 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/2.0 200 OK\r\n\r\n", error::bad_status_line},
      {"http/1.1 200 OK\r\n\r\n", error::bad_status_line},
      {"ICY 200 OK\r\n\r\n", error::bad_status_line},
      {"\r\nHTTP/1.1 200 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1 200 OK\n\r\n", error::bad_status_line},
      {"HTTP/1.1 200 O\x01K\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1 200 OK\r\nX: 1\n\r\n", error::bad_header},
      {"HTTP/1.1 200 OK\r\nX : 1\r\n\r\n", error::bad_header},
      {"HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n", error::bad_header},
      {"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", error::conflicting_content_length},
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n", error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, \"chunked\"\r\n\r\n", error::bad_transfer_encoding},
  }));
  INFO(input);
  const outcome o = parse(input);
  CHECK(o.st == parse_state::failed);
  CHECK(o.ec == expected);
}

TEST_CASE("response_parser limits the head size with header_too_large", "[http][parser]") {
  limits lim;
  lim.max_head_bytes = 40;
  const std::string input = GENERATE(std::string("HTTP/1.1 200 ") + std::string(60, 'x'),
                                     std::string("HTTP/1.1 200 OK\r\nX: ") + std::string(60, 'x'));
  const outcome o = parse(input, false, lim);
  CHECK(o.ec == error::header_too_large);
}
