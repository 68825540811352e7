// RESP2 both ways: commands as the client encodes them, replies as hiredis's reader decodes
// them, whole or in pieces of any size.

#include <bb/redis/command.hpp>
#include <bb/redis/reader.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace redis = bb::redis;

TEST_CASE("redis command encodes each argument as a bulk string", "[redis][resp]") {
  struct row {
    std::vector<std::string> args;
    std::string wire;
  };
  const auto r = GENERATE(values<row>({
      {{"PING"}, "*1\r\n$4\r\nPING\r\n"},
      {{"SET", "k", "v"}, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"},
      {{"SET", "", "a\r\nb"}, "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\na\r\nb\r\n"},  // empty and binary-safe
      {{"AUTH", std::string(10, 'x')}, "*2\r\n$4\r\nAUTH\r\n$10\r\nxxxxxxxxxx\r\n"},
  }));
  std::string out;
  redis::append_array_header(out, r.args.size());
  for (const auto& a : r.args) redis::append_bulk(out, a);
  CHECK(out == r.wire);
}

TEST_CASE("redis command encodes integers as decimal bulk strings", "[redis][resp]") {
  std::string out;
  redis::append_bulk(out, std::int64_t{-1});
  redis::append_bulk(out, std::int64_t{1796403807345788});
  CHECK(out == "$2\r\n-1\r\n$16\r\n1796403807345788\r\n");
  CHECK(redis::command({"GET", "key"}) == "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
}

namespace {
using kind = redis::reply::kind;

struct reply_row {
  std::string wire;
  redis::reply expected;
};

std::vector<reply_row> reply_table() {
  using namespace redis;
  return {
      {"+OK\r\n", status_reply("OK")},
      {"-NOSCRIPT No matching script. Please use EVAL.\r\n",
       error_reply("NOSCRIPT No matching script. Please use EVAL.")},
      {":0\r\n", integer_reply(0)},
      {":-1\r\n", integer_reply(-1)},
      {":9007199254740993\r\n", integer_reply(9007199254740993)},
      {"$5\r\nhello\r\n", string_reply("hello")},
      {"$0\r\n\r\n", string_reply("")},
      {"$4\r\na\r\nb\r\n", string_reply("a\r\nb")},
      {"$-1\r\n", reply{}},
      {"*0\r\n", array_reply({})},
      {"*5\r\n:1\r\n:5\r\n:4\r\n:-1\r\n:1000000\r\n",
       array_reply({integer_reply(1), integer_reply(5), integer_reply(4), integer_reply(-1), integer_reply(1000000)})},
      {"*2\r\n*1\r\n$1\r\na\r\n$-1\r\n", array_reply({array_reply({string_reply("a")}), reply{}})},
  };
}
}  // namespace

TEST_CASE("redis reply_reader decodes every reply type", "[redis][resp]") {
  for (const auto& r : reply_table()) {
    CAPTURE(r.wire);
    redis::reply_reader reader;
    REQUIRE_FALSE(reader.feed(r.wire));
    auto got = reader.next();
    REQUIRE(got);
    REQUIRE(got->has_value());
    CHECK(**got == r.expected);
    CHECK_FALSE(reader.next());
  }
}

TEST_CASE("redis reply_reader frames replies fed one byte at a time, and several at once", "[redis][resp]") {
  std::string all;
  std::vector<redis::reply> expected;
  for (const auto& r : reply_table()) {
    all += r.wire;
    expected.push_back(r.expected);
  }
  SECTION("one byte at a time") {
    redis::reply_reader reader;
    std::vector<redis::reply> got;
    for (char c : all) {
      REQUIRE_FALSE(reader.feed(std::string_view(&c, 1)));
      while (auto r = reader.next()) got.push_back(r->value());
    }
    CHECK(got == expected);
  }
  SECTION("all at once") {
    redis::reply_reader reader;
    REQUIRE_FALSE(reader.feed(all));
    std::vector<redis::reply> got;
    while (auto r = reader.next()) got.push_back(r->value());
    CHECK(got == expected);
  }
}

TEST_CASE("redis reply_reader fails on bytes that are not RESP2, and stays failed", "[redis][resp]") {
  const auto bad = GENERATE(as<std::string>{}, "?what\r\n", ":12x\r\n", "$abc\r\n");
  CAPTURE(bad);
  redis::reply_reader reader;
  (void)reader.feed(bad);
  auto r = reader.next();
  REQUIRE(r);
  CHECK(r->error() == redis::errc::protocol);
  CHECK_FALSE(reader.error_text().empty());
  (void)reader.feed("+OK\r\n");
  auto again = reader.next();
  REQUIRE(again);
  CHECK_FALSE(again->has_value());
}
