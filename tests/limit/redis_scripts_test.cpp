// What the Redis store sends: its keys, its script calls, and the parameters it refuses
// because Lua's doubles could not compute them exactly. (The scripts' answers are checked
// against a real Redis in tests/loopback/redis_script_test.cpp.)

#include <bb/limit/redis_scripts.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>

using namespace std::chrono_literals;

TEST_CASE("redis_key names the prefix, the algorithm and the client's address", "[limit][redis_scripts]") {
  CHECK(bb::redis_key("bb:rl:", bb::rate_limit_algorithm::gcra,
                      bb::client_key_of(*bb::ip_address::parse("203.0.113.7"))) == "bb:rl:gcra:203.0.113.7");
  CHECK(bb::redis_key("p:", bb::rate_limit_algorithm::fixed_window,
                      bb::client_key_of(*bb::ip_address::parse("2001:db8:1:2:3:4:5:6"))) ==
        "p:fixed-window:2001:db8:1:2::");
  CHECK(bb::redis_key("", bb::rate_limit_algorithm::sliding_window,
                      bb::client_key_of(*bb::ip_address::parse("::ffff:10.0.0.1"))) == "sliding-window:10.0.0.1");
}

TEST_CASE("redis script call is one EVALSHA, or EVAL with the script's text", "[limit][redis_scripts]") {
  std::string out;
  bb::append_script_call(out, false, "abc", "k", {5, 60'000'000});
  CHECK(out ==
        "*8\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\n5\r\n$8\r\n60000000\r\n$1\r\n1\r\n$0\r\n\r\n");
  out.clear();
  bb::append_script_call(out, true, "return 1", "k", {5, 60}, 2, 123);
  CHECK(out ==
        "*8\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\n5\r\n$2\r\n60\r\n$1\r\n2\r\n$3\r\n123\r\n");
}

TEST_CASE("redis_script_params are the limit and window, or gcra's emission interval and limit, in microseconds",
          "[limit][redis_scripts]") {
  bb::rate_limit_config c;
  c.limit = 7;
  const auto w = bb::redis_script_params::of(c);
  CHECK((w.p1 == 7 && w.p2 == 60'000'000));
  c.algorithm = bb::rate_limit_algorithm::gcra;
  const auto g = bb::redis_script_params::of(c);
  CHECK((g.p1 == 60'000'000 / 7 && g.p2 == 7));  // truncated to whole microseconds
  c.burst = 0;
  CHECK(bb::redis_script_params::of(c).p2 == 1);
}

TEST_CASE("redis_script_params refuses what doubles cannot compute exactly", "[limit][redis_scripts]") {
  bb::rate_limit_config c;
  c.limit = 1u << 30;  // 2^30 * 6e7 us passes 2^52
  CHECK_THROWS_AS(bb::redis_script_params::of(c), std::invalid_argument);
  c.algorithm = bb::rate_limit_algorithm::gcra;
  c.limit = 1;
  c.burst = 1 << 30;
  CHECK_THROWS_AS(bb::redis_script_params::of(c), std::invalid_argument);
  c.limit = 100'000'000;  // an emission interval under 1 us
  c.burst = -1;
  CHECK_THROWS_AS(bb::redis_script_params::of(c), std::invalid_argument);
}

TEST_CASE("redis decision_of reads a script's five integers in microseconds", "[limit][redis_scripts]") {
  using namespace bb::redis;
  const auto d = bb::decision_of(array_reply(
      {integer_reply(0), integer_reply(5), integer_reply(0), integer_reply(1500), integer_reply(2'000'000)}));
  REQUIRE(d);
  CHECK(*d == bb::rate_decision{false, 5, 0, 1'500'000, 2'000'000'000});
  CHECK_FALSE(bb::decision_of(error_reply("ERR boom")));
  CHECK_FALSE(bb::decision_of(array_reply({integer_reply(1)})));
}
