#include "bb/http/serialize.hpp"

#include "bb/http/parser.hpp"

#include <catch2/catch.hpp>

#include <string>

using bb::http::request_head;
using bb::http::response_head;
using bb::http::version;

namespace {

// Parses a head that the test knows is valid; the head's views point into `raw`.
request_head request(const std::string& raw) {
  bb::http::request_parser p;
  request_head h;
  const auto r = p.feed(raw, h);
  INFO(raw << " → " << r.ec.message());
  REQUIRE(r.st == bb::http::parse_state::done);
  return h;
}

response_head response(const std::string& raw) {
  bb::http::response_parser p;
  response_head h;
  const auto r = p.feed(raw, h, false);
  INFO(raw << " → " << r.ec.message());
  REQUIRE(r.st == bb::http::parse_state::done);
  return h;
}

std::string forwarded(const std::string& raw, bool close = false) {
  std::string out = "prefix|";  // appends, never overwrites
  bb::http::append_forwarded_request(out, request(raw), "10.0.0.9", close);
  REQUIRE(out.starts_with("prefix|"));
  return out.substr(7);
}

}  // namespace

TEST_CASE("append_forwarded_request merges X-Forwarded-For and adds the client", "[http][serialize]") {
  const auto [raw, expected] = GENERATE(table<std::string, std::string>({
      {"GET /p HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
       "GET /p HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"GET /p HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: a\r\n\r\n",
       "GET /p HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1, 10.0.0.9\r\n\r\n"},
      {"GET /p HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\nHost: a\r\nx-forwarded-for:  3.3.3.3 \r\n\r\n",
       "GET /p HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\n\r\n"},
      {"GET /p HTTP/1.1\r\nX-Forwarded-For:\r\nHost: a\r\n\r\n",
       "GET /p HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
  }));
  INFO(raw);
  CHECK(forwarded(raw) == expected);
}

TEST_CASE("append_forwarded_request drops hop-by-hop fields, including ones Connection names", "[http][serialize]") {
  const std::string raw =
      "POST /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nConnection: TE\r\n"
      "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-Sum\r\nUpgrade: websocket\r\n"
      "Proxy-Connection: keep-alive\r\nX-Secret: 1\r\nx-secret: 2\r\nX-Kept: 3\r\nContent-Length: 4\r\n\r\n";
  CHECK(forwarded(raw) ==
        "POST /x HTTP/1.1\r\nHost: a\r\nX-Kept: 3\r\nContent-Length: 4\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n");
}

TEST_CASE("append_forwarded_request never drops framing or Host, even when Connection names them",
          "[http][serialize]") {
  const std::string raw =
      "POST /x HTTP/1.1\r\nHost: a\r\nConnection: Transfer-Encoding, Host\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(forwarded(raw) ==
        "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n");
}

TEST_CASE("append_forwarded_request forwards a body's framing as one canonical field", "[http][serialize]") {
  const auto [raw, expected] = GENERATE(table<std::string, std::string>({
      {"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
       "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5 ,5\r\n\r\n",
       "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"POST /x HTTP/1.1\r\ncontent-length: 5\r\nHost: a\r\nContent-Length: 5\r\nX: 1\r\n\r\n",
       "POST /x HTTP/1.1\r\nContent-Length: 5\r\nHost: a\r\nX: 1\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n",
       "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n",
       "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , CHUNKED\r\n\r\n",
       "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: ,\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
  }));
  INFO(raw);
  const auto out = forwarded(raw);
  CHECK(out == expected);
  // It parses again to the same framing.
  bb::http::request_parser again;
  bb::http::request_head h2;
  REQUIRE(again.feed(out, h2).st == bb::http::parse_state::done);
  CHECK(h2.body == request(raw).body);
}

TEST_CASE("append_forwarded_response sends a Content-Length list as one value", "[http][serialize]") {
  const std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nX: y\r\nContent-Length: 2\r\n\r\n";
  std::string buf = raw;
  bb::http::response_parser p;
  bb::http::response_head h;
  REQUIRE(p.feed(buf, h, false).st == bb::http::parse_state::done);
  std::string out;
  bb::http::append_forwarded_response(out, h, true, version::http11);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\n");
}

TEST_CASE("append_forwarded_request speaks HTTP/1.1 upstream and can ask to close", "[http][serialize]") {
  CHECK(forwarded("HEAD /h HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true) ==
        "HEAD /h HTTP/1.1\r\nHost: \r\nX-Forwarded-For: 10.0.0.9\r\nConnection: close\r\n\r\n");
}

TEST_CASE("append_forwarded_response writes the Connection field this hop needs", "[http][serialize]") {
  const std::string raw =
      "HTTP/1.1 200 Fine\r\nServer: s\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
      "Content-Length: 2\r\n\r\n";
  const auto [keep_alive, client, extra, expected] = GENERATE(table<bool, version, std::string, std::string>({
      {true, version::http11, "", "HTTP/1.1 200 Fine\r\nServer: s\r\nContent-Length: 2\r\n\r\n"},
      {false, version::http11, "", "HTTP/1.1 200 Fine\r\nServer: s\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"},
      {true, version::http10, "",
       "HTTP/1.1 200 Fine\r\nServer: s\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"},
      {false, version::http10, "X-Limit: 3\r\n",
       "HTTP/1.1 200 Fine\r\nServer: s\r\nContent-Length: 2\r\nConnection: close\r\nX-Limit: 3\r\n\r\n"},
  }));
  std::string out;
  bb::http::append_forwarded_response(out, response(raw), keep_alive, client, extra);
  CHECK(out == expected);
}

TEST_CASE("append_forwarded_response fills an empty reason and drops Content-Length beside chunked",
          "[http][serialize]") {
  const auto [raw, expected] = GENERATE(table<std::string, std::string>({
      {"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
      {"HTTP/1.0 299 \r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 299 Unknown\r\nContent-Length: 0\r\n\r\n"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
  }));
  std::string out;
  bb::http::append_forwarded_response(out, response(raw), true, version::http11);
  CHECK(out == expected);
}

TEST_CASE("make_error_response answers a HEAD request without a body", "[http][serialize]") {
  CHECK(bb::http::make_error_response(502, "upstream unavailable", true, {}, true) ==
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\n");
}

TEST_CASE("make_error_response writes the proxy's own answers byte for byte", "[http][serialize]") {
  CHECK(bb::http::make_error_response(502, "upstream unavailable", true) ==
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\n"
        "upstream unavailable\n");
  CHECK(bb::http::make_error_response(429, "slow down", false, "Retry-After: 2\r\n") ==
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nRetry-After: 2\r\n\r\n"
        "slow down\n");
  CHECK(bb::http::make_error_response(400, "", true) ==
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n\n");
}

TEST_CASE("append_forwarded_request gives an HTTP/1.0 request without Host the Host HTTP/1.1 needs",
          "[http][serialize]") {
  const auto [raw, expected] = GENERATE(table<std::string, std::string>({
      {"GET /p HTTP/1.0\r\n\r\n",
       "GET /p HTTP/1.1\r\nHost: \r\nX-Forwarded-For: 10.0.0.9\r\nConnection: close\r\n\r\n"},
      {"GET http://a.example:8080/p?q HTTP/1.0\r\n\r\n",
       "GET http://a.example:8080/p?q HTTP/1.1\r\nHost: a.example:8080\r\nX-Forwarded-For: 10.0.0.9\r\nConnection: "
       "close\r\n\r\n"},
      {"GET http://b.example HTTP/1.0\r\nHost: c\r\n\r\n",
       "GET http://b.example HTTP/1.1\r\nHost: c\r\nX-Forwarded-For: 10.0.0.9\r\nConnection: close\r\n\r\n"},
  }));
  INFO(raw);
  std::string buf = raw;
  bb::http::request_parser p;
  bb::http::request_head h;
  REQUIRE(p.feed(buf, h).st == bb::http::parse_state::done);
  std::string out;
  bb::http::append_forwarded_request(out, h, "10.0.0.9", true);
  CHECK(out == expected);
  // What goes upstream must parse as a valid HTTP/1.1 request.
  bb::http::request_parser again;
  bb::http::request_head h2;
  CHECK(again.feed(out, h2).st == bb::http::parse_state::done);
}

TEST_CASE("wants_upgrade needs HTTP/1.1, an Upgrade field and the upgrade option in Connection", "[http][serialize]") {
  const auto [raw, expected] = GENERATE(table<std::string, bool>({
      {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", true},
      {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, upgrade\r\nUpgrade: h2c, websocket\r\n\r\n", true},
      {"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", false},   // Connection does not name it
      {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", false},  // nothing to upgrade to
      {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n", false},
      {"GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", false},  // RFC 9110 §7.8: ignored
  }));
  INFO(raw);
  CHECK(bb::http::wants_upgrade(request(raw)) == expected);
}

TEST_CASE("append_forwarded_request passes Upgrade on only when the client asked to upgrade", "[http][serialize]") {
  const auto [raw, expected] = GENERATE(table<std::string, std::string>({
      {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
       "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nX-Forwarded-For: 10.0.0.9\r\n"
       "Connection: upgrade\r\n\r\n"},
      {"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
       "GET /ws HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
      {"GET /ws HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
       "GET /ws HTTP/1.1\r\nHost: \r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"},
  }));
  INFO(raw);
  CHECK(forwarded(raw) == expected);
}

TEST_CASE("append_forwarded_response passes a 101 on with its Upgrade and Connection: upgrade", "[http][serialize]") {
  const std::string raw =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n"
      "Keep-Alive: timeout=5\r\n\r\n";
  std::string out;
  bb::http::append_forwarded_response(out, response(raw), false, version::http11, "X-Limit: 3\r\n");
  CHECK(out ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\nConnection: upgrade\r\n"
        "X-Limit: 3\r\n\r\n");
}

TEST_CASE("append_forwarded_response takes the final chunked off Transfer-Encoding for an HTTP/1.0 client",
          "[http][serialize]") {
  const auto [raw, expected] = GENERATE(table<std::string, std::string>({
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: 1\r\n\r\n",
       "HTTP/1.1 200 OK\r\nX: 1\r\nConnection: close\r\n\r\n"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: ,chunked\r\n\r\n",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n"},
      // Not chunked last: the body ends at close and is passed on as it is, codings and all.
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nConnection: close\r\n\r\n"},
  }));
  INFO(raw);
  std::string out;
  bb::http::append_forwarded_response(out, response(raw), false, version::http10);
  CHECK(out == expected);
}

TEST_CASE("dechunks_for takes the chunking off a chunked body for an HTTP/1.0 client only", "[http][serialize]") {
  const std::string raw_chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string raw_sized = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n";
  const std::string raw_until_close = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
  const auto chunked = response(raw_chunked);
  const auto sized = response(raw_sized);
  const auto until_close = response(raw_until_close);
  CHECK(bb::http::dechunks_for(chunked, version::http10));
  CHECK_FALSE(bb::http::dechunks_for(chunked, version::http11));
  CHECK_FALSE(bb::http::dechunks_for(sized, version::http10));
  CHECK_FALSE(bb::http::dechunks_for(until_close, version::http10));
}
