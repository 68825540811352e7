#include "bb/http/request_parser.hpp"

#include <catch2/catch.hpp>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

using namespace std::string_literals;
using bb::http::body_kind;
using bb::http::error;
using bb::http::limits;
using bb::http::parse_state;
using bb::http::request_head;
using bb::http::request_parser;
using bb::http::version;

namespace {

// Everything a feed() tells the caller, copied out of the buffer so outcomes compare by value.
struct outcome {
  parse_state st = parse_state::need_more;
  std::size_t head_size = 0;
  std::error_code ec;
  std::string method, target;
  version ver = version::http11;
  std::vector<std::pair<std::string, std::string>> headers;
  body_kind body = body_kind::none;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  bool expect_continue = false;
  bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
  os << "{st=" << static_cast<int>(o.st) << " head_size=" << o.head_size << " ec=" << o.ec.message() << " " << o.method
     << " " << o.target << " body=" << static_cast<int>(o.body) << " cl=" << o.content_length
     << " keep_alive=" << o.keep_alive << " expect=" << o.expect_continue << " headers=" << o.headers.size() << "}";
  return os;
}

outcome snapshot(const request_parser::result& r, const request_head& h) {
  outcome o;
  o.st = r.st;
  o.head_size = r.head_size;
  o.ec = r.ec;
  if (r.st != parse_state::done) return o;
  o.method = h.method;
  o.target = h.target;
  o.ver = h.ver;
  for (const auto& f : h.headers) o.headers.emplace_back(f.name, f.value);
  o.body = h.body;
  o.content_length = h.content_length;
  o.keep_alive = h.keep_alive;
  o.expect_continue = h.expect_continue;
  return o;
}

// Parses `input` whole, then for every k feeds the first k bytes followed by the whole input
// (each prefix in its own buffer, as a receive buffer that grew), then all prefixes in turn on one
// parser; every path must reach the whole-input outcome, which is returned.
outcome parse(const std::string& input, limits lim = {}) {
  request_parser whole_parser(lim);
  request_head whole_head;
  const outcome whole = snapshot(whole_parser.feed(input, whole_head), whole_head);
  for (std::size_t k = 0; k <= input.size(); ++k) {
    INFO("split at " << k << " of " << input.size());
    request_parser p(lim);
    request_head h;
    const std::string prefix = input.substr(0, k);
    const auto first = p.feed(prefix, h);
    outcome got = snapshot(first, h);
    if (first.st == parse_state::need_more) {
      got = snapshot(p.feed(input, h), h);
    } else {
      const auto again = p.feed(input, h);
      CHECK((again.st == first.st && again.head_size == first.head_size && again.ec == first.ec));
    }
    REQUIRE(got == whole);
  }
  request_parser p(lim);
  request_head h;
  std::string grown;
  request_parser::result r;
  for (char c : input) {
    grown.push_back(c);
    r = p.feed(grown, h);
    if (r.st != parse_state::need_more) break;
  }
  REQUIRE(snapshot(r, h) == whole);
  return whole;
}

std::string get(std::string extra = "") { return "GET / HTTP/1.1\r\nHost: a\r\n" + extra + "\r\n"; }

}  // namespace

TEST_CASE("request_parser accepts a simple GET", "[http][parser]") {
  const std::string input = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept:  */*  \r\n\r\n";
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.head_size == input.size());
  CHECK(o.method == "GET");
  CHECK(o.target == "/index.html?q=1");
  CHECK(o.ver == version::http11);
  CHECK(o.headers == std::vector<std::pair<std::string, std::string>>{{"Host", "example.com"}, {"Accept", "*/*"}});
  CHECK(o.body == body_kind::none);
  CHECK(o.keep_alive);
  CHECK_FALSE(o.expect_continue);
}

TEST_CASE("request_parser frames a POST by Content-Length and stops at the body", "[http][parser]") {
  const std::string head = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  const outcome o = parse(head + "hello");
  REQUIRE(o.st == parse_state::done);
  CHECK(o.head_size == head.size());
  CHECK(o.body == body_kind::content_length);
  CHECK(o.content_length == 5);
}

TEST_CASE("request_parser marks a HEAD request", "[http][parser]") {
  const std::string input = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
  request_parser p;
  request_head h;
  REQUIRE(p.feed(input, h).st == parse_state::done);
  CHECK(h.is_head());
  CHECK(parse(input).method == "HEAD");
}

TEST_CASE("request_parser accepts an HTTP/1.0 request without Host", "[http][parser]") {
  const outcome o = parse("GET / HTTP/1.0\r\n\r\n");
  REQUIRE(o.st == parse_state::done);
  CHECK(o.ver == version::http10);
  CHECK_FALSE(o.keep_alive);
}

TEST_CASE("request_parser derives keep_alive from the version and Connection", "[http][parser]") {
  const auto [input, keep_alive] = GENERATE(table<std::string, bool>({
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE \r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
  }));
  INFO(input);
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.keep_alive == keep_alive);
}

TEST_CASE("request_parser sets expect_continue only for HTTP/1.1", "[http][parser]") {
  const auto [input, expect] = GENERATE(table<std::string, bool>({
      {get("Expect: 100-continue\r\n"), true},
      {get("Expect: 100-Continue\r\n"), true},
      {get("Expect: something-else\r\n"), false},
      {"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", false},
  }));
  INFO(input);
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.expect_continue == expect);
}

TEST_CASE("request_parser skips a few leading empty lines and counts them in head_size", "[http][parser]") {
  const std::string input = "\r\n\r\n" + get();
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.head_size == input.size());
  CHECK(o.method == "GET");
  const outcome too_many = parse("\r\n\r\n\r\n\r\n\r\n" + get());
  CHECK(too_many.ec == error::bad_request_line);
}

TEST_CASE("request_parser parses pipelined requests one after another", "[http][parser]") {
  const std::string first = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string buffer = first + "abc" + second + second;
  request_parser p;
  request_head h;
  auto r = p.feed(buffer, h);
  REQUIRE(r.st == parse_state::done);
  REQUIRE(r.head_size == first.size());
  CHECK(h.target == "/a");
  std::string_view rest = std::string_view(buffer).substr(r.head_size + h.content_length);
  for (int i = 0; i < 2; ++i) {
    p.reset();
    r = p.feed(rest, h);
    REQUIRE(r.st == parse_state::done);
    REQUIRE(r.head_size == second.size());
    CHECK(h.target == "/b");
    CHECK(h.headers.size() == 1);
    rest.remove_prefix(r.head_size);
  }
  CHECK(rest.empty());
}

TEST_CASE("request_parser keeps header capacity across reset", "[http][parser]") {
  request_parser p;
  request_head h;
  const std::string big = get("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n");
  REQUIRE(p.feed(big, h).st == parse_state::done);
  const std::size_t capacity = h.headers.capacity();
  p.reset();
  REQUIRE(p.feed(get(), h).st == parse_state::done);
  CHECK(h.headers.size() == 1);
  CHECK(h.headers.capacity() == capacity);
}

TEST_CASE("request_parser folds equal Content-Length values into one", "[http][parser]") {
  const std::string input = GENERATE(get("Content-Length: 7, 7\r\n"), get("Content-Length: 7\r\nContent-Length: 7\r\n"),
                                     get("Content-Length: 7,7 , 7\r\n"));
  INFO(input);
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.body == body_kind::content_length);
  CHECK(o.content_length == 7);
}

TEST_CASE("request_parser accepts chunked alone as the transfer coding, empty list elements ignored",
          "[http][parser]") {
  const std::string input = GENERATE(get("Transfer-Encoding: chunked\r\n"), get("Transfer-Encoding: Chunked\r\n"),
                                     get("Transfer-Encoding: chunked,\r\n"), get("Transfer-Encoding: , chunked\r\n"),
                                     get("Transfer-Encoding: ,,chunked , \r\n"),
                                     get("Transfer-Encoding: ,\r\nTransfer-Encoding: chunked\r\n"));
  INFO(input);
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.body == body_kind::chunked);
}

TEST_CASE("request_parser accepts the three request target forms where their methods allow them", "[http][parser]") {
  const auto [method, target] = GENERATE(table<std::string, std::string>({
      {"GET", "/"},
      {"GET", "/a/b?c=d&e=%20"},
      {"POST", "/a:b@c!$&'()*+,;="},
      {"GET", "http://a.example:8080/x?y"},
      {"GET", "https://a.example"},
      {"PUT", "coap+tcp://a/"},
      {"OPTIONS", "*"},
      {"OPTIONS", "/"},
  }));
  const std::string input = method + " " + target + " HTTP/1.1\r\nHost: a\r\n\r\n";
  INFO(input);
  const outcome o = parse(input);
  REQUIRE(o.st == parse_state::done);
  CHECK(o.target == target);
}

TEST_CASE("request_parser accepts a Host of RFC 3986's forms", "[http][parser]") {
  const std::string host =
      GENERATE("a", "a.example", "a.example:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:443", "[2001:db8::7]",
               "[v1.fe:x]", "a-b_c~d", "%41b", "a!$&'()*+,;=", "a:", "a:65535", "");
  const std::string input = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  INFO(input);
  CHECK(parse(input).st == parse_state::done);
}

TEST_CASE("request_parser accepts a head of exactly max_head_bytes", "[http][parser]") {
  const std::string input = get("X: " + std::string(20, 'x') + "\r\n");
  limits lim;
  lim.max_head_bytes = input.size();
  CHECK(parse(input, lim).st == parse_state::done);
  lim.max_head_bytes = input.size() - 1;
  CHECK(parse(input, lim).ec == error::header_too_large);
}

TEST_CASE("request_parser answers 414 inside the request line and 431 after it", "[http][parser]") {
  limits lim;
  lim.max_head_bytes = 64;
  const auto [input, expected, status] = GENERATE(table<std::string, error, int>({
      {"GET /" + std::string(100, 'a'), error::uri_too_long, 414},
      {"GET /" + std::string(49, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", error::uri_too_long, 414},      // LF at 64
      {"GET /" + std::string(48, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", error::header_too_large, 431},  // LF at 63
      {"GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100, 'b'), error::header_too_large, 431},
      {"GET / HTTP/1.1\r\nHost: a\r\n" + std::string(10, 'X') + ": 1\r\n" + std::string(40, 'c'),
       error::header_too_large, 431},
  }));
  INFO(input);
  const outcome o = parse(input, lim);
  CHECK(o.st == parse_state::failed);
  CHECK(o.ec == expected);
  CHECK(bb::http::status_for(o.ec) == status);
}

TEST_CASE("request_parser fails as soon as the buffer passes the limit", "[http][parser]") {
  limits lim;
  lim.max_head_bytes = 32;
  request_parser p(lim);
  request_head h;
  const std::string line(32, 'a');
  CHECK(p.feed(line, h).st == parse_state::need_more);
  CHECK(p.feed(line + "a", h).ec == error::uri_too_long);
}

TEST_CASE("request_parser rejects more than max_headers fields", "[http][parser]") {
  limits lim;
  lim.max_headers = 3;
  CHECK(parse(get("A: 1\r\nB: 2\r\n"), lim).st == parse_state::done);
  const outcome o = parse(get("A: 1\r\nB: 2\r\nC: 3\r\n"), lim);
  CHECK(o.ec == error::too_many_headers);
  CHECK(bb::http::status_for(o.ec) == 431);
}

TEST_CASE("request_parser rejects a Content-Length above max_body_bytes", "[http][parser]") {
  limits lim;
  lim.max_body_bytes = 10;
  CHECK(parse(get("Content-Length: 10\r\n"), lim).st == parse_state::done);
  const outcome o = parse(get("Content-Length: 11\r\n"), lim);
  CHECK(o.ec == error::body_too_large);
  CHECK(bb::http::status_for(o.ec) == 413);
}

TEST_CASE("request_parser rejects every malformed head with its error and status", "[http][parser]") {
  const auto [input, expected, status] = GENERATE(table<std::string, error, int>({
      // line endings and control characters
      {"GET / HTTP/1.1\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET / HTTP/1.1\r\nHost: a\n\r\n", error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\n\n", error::bad_header, 400},
      {"GET / HTTP/1.1\rHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a"s + '\0' + "b\r\n\r\n", error::bad_header, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", error::bad_header, 400},
      {"\x16\x03\x01\x02\x00", error::bad_request_line, 400},
      // request line
      {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET /  HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      // version
      {"GET / http/1.1\r\nHost: a\r\n\r\n", error::bad_version, 400},
      {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", error::bad_request_line, 400},  // target "/ HTTP/1.1" has SP
      {"GET / HTTP/1\r\nHost: a\r\n\r\n", error::bad_version, 400},
      {"GET / HTTP/11.1\r\nHost: a\r\n\r\n", error::bad_version, 400},
      {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", error::unsupported_version, 505},
      {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", error::unsupported_version, 505},
      {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", error::unsupported_version, 505},
      // field lines
      {get("X : 1\r\n"), error::bad_header, 400},
      {get("X\t: 1\r\n"), error::bad_header, 400},
      {get(": 1\r\n"), error::bad_header, 400},
      {get("No colon\r\n"), error::bad_header, 400},
      {get("X: 1\r\n folded\r\n"), error::bad_header, 400},
      {get("X: 1\r\n\tfolded\r\n"), error::bad_header, 400},
      {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", error::bad_header, 400},
      {get("X\xc3\xa9: 1\r\n"), error::bad_header, 400},
      // Host
      {"GET / HTTP/1.1\r\n\r\n", error::bad_header, 400},
      {get("host: b\r\n"), error::bad_header, 400},
      {"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", error::bad_header, 400},
      // Content-Length
      {get("Content-Length: -5\r\n"), error::bad_content_length, 400},
      {get("Content-Length: +5\r\n"), error::bad_content_length, 400},
      {get("Content-Length: 5 5\r\n"), error::bad_content_length, 400},
      {get("Content-Length:\r\n"), error::bad_content_length, 400},
      {get("Content-Length: 0x10\r\n"), error::bad_content_length, 400},
      {get("Content-Length: 5,\r\n"), error::bad_content_length, 400},
      {get("Content-Length: 12345678901234567890\r\n"), error::bad_content_length, 400},
      {get("Content-Length: 5, 6\r\n"), error::conflicting_content_length, 400},
      {get("Content-Length: 5\r\nContent-Length: 6\r\n"), error::conflicting_content_length, 400},
      // Transfer-Encoding
      {get("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), error::content_length_and_transfer_encoding, 400},
      {get("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), error::content_length_and_transfer_encoding, 400},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", error::bad_transfer_encoding, 400},
      {get("Transfer-Encoding: gzip\r\n"), error::bad_transfer_encoding, 400},
      {get("Transfer-Encoding: chunked, gzip\r\n"), error::bad_transfer_encoding, 400},
      {get("Transfer-Encoding: chunked, chunked\r\n"), error::bad_transfer_encoding, 400},
      {get("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), error::bad_transfer_encoding, 400},
      {get("Transfer-Encoding: chunked;q=1\r\n"), error::bad_transfer_encoding, 400},
      {get("Transfer-Encoding:\r\n"), error::bad_transfer_encoding, 400},
      {get("Transfer-Encoding: identity, chunked\r\n"), error::unsupported_transfer_encoding, 501},
      {get("Transfer-Encoding: foo, chunked\r\n"), error::unsupported_transfer_encoding, 501},
      {get("Transfer-Encoding: gzip, chunked\r\n"), error::unsupported_transfer_encoding, 501},
      {get("Transfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n"), error::unsupported_transfer_encoding, 501},
      {get("Transfer-Encoding: deflate,,chunked\r\n"), error::unsupported_transfer_encoding, 501},
      {get("Transfer-Encoding: ,\r\n"), error::bad_transfer_encoding, 400},
      // Host (RFC 9110 §7.2: uri-host [ ":" port ])
      {"GET / HTTP/1.1\r\nHost: a/b c\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: \"a\"\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: <a>\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a:000080\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: [a.example]\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", error::bad_host, 400},
      {"GET / HTTP/1.1\r\nHost: a,b:1,c\r\n\r\n", error::bad_host, 400},
      // request target (RFC 9112 §3.2)
      {"GET a HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET ://a/ HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET http://a/#b HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET http://a:pe HTTP/1.0\r\n\r\n", error::bad_target, 400},
      {"GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"GET http://a b/ HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_request_line, 400},
      {"GET http://<a>/ HTTP/1.1\r\nHost: a\r\n\r\n", error::bad_target, 400},
      {"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", error::unsupported_method, 501},
      {"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", error::unsupported_method, 501},
  }));
  INFO(input);
  const outcome o = parse(input);
  CHECK(o.st == parse_state::failed);
  CHECK(o.ec == expected);
  CHECK(bb::http::status_for(o.ec) == status);
}
