#include "bb/http/body.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

using namespace std::string_literals;
using bb::http::body_framer;
using bb::http::error;

namespace {

// The verdict on a whole stream: how many bytes the body took, whether it ended, and any error.
struct verdict {
  std::size_t used = 0;
  bool done = false;
  std::error_code ec;
  bool operator==(const verdict&) const = default;
};

std::ostream& operator<<(std::ostream& os, const verdict& v) {
  return os << "{used=" << v.used << " done=" << v.done << " ec=" << v.ec.message() << "}";
}

// Feeds `pieces` in order until the framer stops taking bytes; every piece before the last
// verdict must be taken whole, as the caller would otherwise lose bytes.
template <class Pieces>
verdict run(body_framer f, const Pieces& pieces) {
  verdict v;
  for (std::string_view piece : pieces) {
    const body_framer::step s = f.consume(piece);
    v.used += s.used;
    v.done = s.done;
    v.ec = s.ec;
    if (s.done || s.ec) {
      CHECK(f.done() == s.done);
      return v;
    }
    REQUIRE(s.used == piece.size());
  }
  return v;
}

// The verdict for `data` fed whole, which feeding it in two pieces split at every k, and one
// byte at a time, must match.
verdict frame(const std::function<body_framer()>& make, const std::string& data) {
  const verdict whole = run(make(), std::vector<std::string_view>{data});
  for (std::size_t k = 0; k <= data.size(); ++k) {
    INFO("split at " << k << " of " << data.size());
    const std::string_view all(data);
    REQUIRE(run(make(), std::vector<std::string_view>{all.substr(0, k), all.substr(k)}) == whole);
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < data.size(); ++i) bytes.push_back(std::string_view(data).substr(i, 1));
  REQUIRE(run(make(), bytes) == whole);
  return whole;
}

body_framer chunked() { return body_framer::chunked(); }

}  // namespace

TEST_CASE("body_framer none takes nothing and is done", "[http][body]") {
  body_framer f = body_framer::none();
  CHECK(f.done());
  const auto s = f.consume("GET / HTTP/1.1\r\n");
  CHECK(s.used == 0);
  CHECK(s.done);
  CHECK_FALSE(f.is_until_close());
}

TEST_CASE("body_framer content_length takes exactly n bytes", "[http][body]") {
  const verdict v = frame([] { return body_framer::content_length(5); }, "helloGET /next");
  CHECK(v == verdict{5, true, {}});
  CHECK(frame([] { return body_framer::content_length(0); }, "GET") == verdict{0, true, {}});
  CHECK(frame([] { return body_framer::content_length(10); }, "short") == verdict{5, false, {}});
}

TEST_CASE("body_framer until_close takes everything and never ends", "[http][body]") {
  body_framer f = body_framer::until_close();
  CHECK(f.is_until_close());
  CHECK(frame([] { return body_framer::until_close(); }, "any bytes\r\n0\r\n\r\n") == verdict{16, false, {}});
  CHECK_FALSE(f.done());
}

TEST_CASE("body_framer for_head picks the framer a head calls for", "[http][body]") {
  using bb::http::body_kind;
  CHECK(body_framer::for_head(body_kind::none, 0).done());
  CHECK(body_framer::for_head(body_kind::content_length, 3).consume("abcd").used == 3);
  CHECK(body_framer::for_head(body_kind::until_close, 0).is_until_close());
  CHECK(body_framer::for_head(body_kind::chunked, 0, 4).consume("5\r\n").ec == error::body_too_large);
}

TEST_CASE("body_framer chunked finds the end of valid chunked bodies", "[http][body]") {
  const std::string body = GENERATE(
      as<std::string>{}, "5\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "0\r\n\r\n",
      "000\r\n\r\n", "A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", "0000000000000005\r\nhello\r\n0\r\n\r\n",
      // chunk extensions, with and without values, quoted strings and BWS before ';'
      "5;name=value\r\nhello\r\n0;last\r\n\r\n", "5;a;b=\"q s\"\r\nhello\r\n0\r\n\r\n",
      "5 ;a\r\nhello\r\n0\t; a\r\n\r\n", "5;\r\nhello\r\n0\r\n\r\n",
      // trailers
      "5\r\nhello\r\n0\r\nChecksum: abc\r\n\r\n", "0\r\nA: 1\r\nB:\r\nC: x\ty \xff\r\n\r\n",
      // data may contain CRLF and look like framing
      "5\r\n0\r\n\r\n\r\n0\r\n\r\n");
  INFO(body);
  CHECK(frame(chunked, body) == verdict{body.size(), true, {}});
  CHECK(frame(chunked, body + "GET / HTTP/1.1\r\n") == verdict{body.size(), true, {}});
}

TEST_CASE("body_framer chunked waits for the rest of an unfinished body", "[http][body]") {
  const std::string body = GENERATE(as<std::string>{}, "5\r\nhel", "5\r\nhello\r\n0\r\n", "0\r\nX: 1\r\n", "ff");
  INFO(body);
  CHECK(frame(chunked, body) == verdict{body.size(), false, {}});
}

TEST_CASE("body_framer chunked rejects malformed framing", "[http][body]") {
  const auto [body, bad_at] = GENERATE(table<std::string, std::size_t>({
      {"\r\n", 0},                                      // no chunk-size
      {";x\r\n", 0},                                    // extension without size
      {"g\r\n", 0},                                     // not hex
      {"-5\r\n", 0},                                    // sign
      {"0x5\r\n", 1},                                   // 0x prefix
      {"5\nhello\r\n0\r\n\r\n", 1},                     // bare LF ends the size line
      {"5\rhello\r\n0\r\n\r\n", 2},                     // bare CR
      {"5 \r\nhello\r\n0\r\n\r\n", 2},                  // BWS without an extension
      {"5;a\x01\r\nhello\r\n0\r\n\r\n", 3},             // CTL in an extension
      {"5;a\nhello\r\n0\r\n\r\n", 3},                   // bare LF in an extension
      {"5\r\nhelloX\r\n0\r\n\r\n", 8},                  // no CRLF after data
      {"5\r\nhello\rX\n0\r\n\r\n", 9},                  // CR not followed by LF after data
      {"5\r\nhello\n0\r\n\r\n", 8},                     // bare LF after data
      {"00000000000000005\r\nhello\r\n0\r\n\r\n", 16},  // 17 digits
      {"0\r\n folded: 1\r\n\r\n", 3},                   // trailer obs-fold
      {"0\r\nNo colon\r\n\r\n", 5},                     // trailer name with SP
      {"0\r\nX : 1\r\n\r\n", 4},                        // whitespace before the colon
      {"0\r\nX: 1\n\r\n", 7},                           // bare LF in a trailer
      {"0\r\nX: \x7f\r\n\r\n", 6},                      // DEL in a trailer value
      {"0\r\n\rX", 4},                                  // final CR without LF
  }));
  INFO(body);
  CHECK(frame(chunked, body) == verdict{bad_at, false, error::bad_chunk});
}

TEST_CASE("body_framer chunked bounds extension and trailer sizes", "[http][body]") {
  const std::string long_ext = "5;" + std::string(5000, 'e') + "\r\nhello\r\n0\r\n\r\n";
  CHECK(run(chunked(), std::vector<std::string_view>{long_ext}) == verdict{4096, false, error::bad_chunk});
  const std::string long_trailer = "0\r\nX: " + std::string(20000, 't') + "\r\n\r\n";
  CHECK(run(chunked(), std::vector<std::string_view>{long_trailer}) == verdict{3 + 16 * 1024, false, error::bad_chunk});
}

TEST_CASE("body_framer chunked rejects chunk sizes that add up past the limit", "[http][body]") {
  const auto make = [] { return body_framer::chunked(10); };
  CHECK(frame(make, "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n") == verdict{25, true, {}});
  CHECK(frame(make, "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n") == verdict{12, false, error::body_too_large});
  CHECK(frame(chunked, "ffffffffffffffff\r\nxy") == verdict{20, false, {}});
  CHECK(frame([] { return body_framer::chunked(UINT64_MAX - 1); }, "ffffffffffffffff\r\n") ==
        verdict{17, false, error::body_too_large});
}

TEST_CASE("body_framer chunked repeats its verdict after the end", "[http][body]") {
  body_framer f = body_framer::chunked();
  REQUIRE(f.consume("0\r\n\r\n").done);
  CHECK(f.consume("more").used == 0);
  CHECK(f.consume("more").done);
  body_framer g = body_framer::chunked();
  REQUIRE(g.consume("x").ec == error::bad_chunk);
  CHECK(g.consume("0\r\n\r\n").ec == error::bad_chunk);
  CHECK(g.consume("0\r\n\r\n").used == 0);
}

namespace {

// The payload consume() names for `data` fed in `pieces`, concatenated; empty views fail.
template <class Pieces>
std::string payload_of(body_framer f, const Pieces& pieces) {
  std::string out;
  for (std::string_view piece : pieces) {
    const auto s = f.consume(piece, [&](std::string_view p) {
      CHECK_FALSE(p.empty());
      CHECK(p.data() >= piece.data());  // a view into what was fed, not a copy
      CHECK(p.data() + p.size() <= piece.data() + piece.size());
      out.append(p);
    });
    if (s.done || s.ec) break;
  }
  return out;
}

// The payload for `data` fed whole, which every two-piece split and byte-at-a-time must match.
std::string payload(const std::function<body_framer()>& make, const std::string& data) {
  const std::string whole = payload_of(make(), std::vector<std::string_view>{data});
  const std::string_view all(data);
  for (std::size_t k = 0; k <= data.size(); ++k) {
    INFO("split at " << k << " of " << data.size());
    REQUIRE(payload_of(make(), std::vector<std::string_view>{all.substr(0, k), all.substr(k)}) == whole);
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < data.size(); ++i) bytes.push_back(all.substr(i, 1));
  REQUIRE(payload_of(make(), bytes) == whole);
  return whole;
}

}  // namespace

TEST_CASE("body_framer chunked names the chunk data alone as payload", "[http][body]") {
  const auto [body, expected] = GENERATE(table<std::string, std::string>({
      {"5\r\nhello\r\n0\r\n\r\n", "hello"},
      {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
      {"0\r\n\r\n", ""},
      {"5;ext=\"x\"\r\nhello\r\n1 ; y\r\n!\r\n0;last\r\nChecksum: abc\r\nX: 1\r\n\r\n", "hello!"},
      {"5\r\n0\r\n\r\n\r\n0\r\n\r\n", "0\r\n\r\n"},            // data that looks like framing is data
      {"5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "hello"},  // the next message is not payload
      {"5\r\nhel", "hel"},                                     // unfinished: what came so far
  }));
  INFO(body);
  CHECK(payload(chunked, body) == expected);
  // Naming the payload changes nothing about the framing.
  body_framer plain = body_framer::chunked();
  body_framer named = body_framer::chunked();
  const auto a = plain.consume(body);
  const auto b = named.consume(body, [](std::string_view) {});
  CHECK(a.used == b.used);
  CHECK(a.done == b.done);
  CHECK(a.ec == b.ec);
}

TEST_CASE("body_framer chunked names no payload past a framing error", "[http][body]") {
  CHECK(payload(chunked, "5\r\nhelloX\r\n0\r\n\r\n") == "hello");
  CHECK(payload(chunked, "5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n") == "hello");
}

TEST_CASE("body_framer content_length and until_close name every body byte as payload", "[http][body]") {
  CHECK(payload([] { return body_framer::content_length(5); }, "helloGET /next") == "hello");
  CHECK(payload([] { return body_framer::content_length(0); }, "GET") == "");
  CHECK(payload([] { return body_framer::until_close(); }, "5\r\nall of it") == "5\r\nall of it");
  CHECK(payload([] { return body_framer::none(); }, "nothing") == "");
}
