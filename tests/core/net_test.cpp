#include <bb/core/net.hpp>
#include <catch2/catch.hpp>
#include <string>

TEST_CASE("endpoint parses and prints IPv4 and IPv6 forms", "[core][net]") {
  auto [text, canonical] = GENERATE(table<std::string, std::string>({
      {"127.0.0.1:1100", "127.0.0.1:1100"},
      {"0.0.0.0:0", "0.0.0.0:0"},
      {"[::1]:80", "[::1]:80"},
      {"[2001:db8:0:0:0:0:2:1]:8080", "[2001:db8::2:1]:8080"},
      {"[::ffff:10.0.0.1]:1", "[::ffff:a00:1]:1"},
      {"[fe80::]:65535", "[fe80::]:65535"},
  }));
  auto ep = bb::endpoint::parse(text);
  REQUIRE(ep);
  CHECK(ep->to_string() == canonical);
}

TEST_CASE("endpoint rejects malformed addresses and ports", "[core][net]") {
  auto text = GENERATE(as<std::string>{}, "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "256.0.0.1:80",
                       "1.2.3:80", "01.2.3.4:80", "::1:80", "[::1:80", "[1.2.3.4]:80", "localhost:80", "[1::2::3]:80",
                       "1.2.3.4:8 0", "[12345::]:1");
  CAPTURE(text);
  CHECK_FALSE(bb::endpoint::parse(text));
}
