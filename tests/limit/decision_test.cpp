#include <bb/core/client_key.hpp>
#include <bb/limit/decision.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

TEST_CASE("whole_seconds_up keeps whole seconds and rounds any remainder up", "[limit][decision]") {
  auto [ns, seconds] = GENERATE(table<std::int64_t, std::int64_t>({
      {-1, -1},
      {-5, -1},
      {0, 0},
      {1, 1},
      {999'999'999, 1},
      {1'000'000'000, 1},
      {1'000'000'001, 2},
      {2'000'000'000, 2},
      {2'100'000'000, 3},
      {3'900'000'000, 4},
  }));
  CAPTURE(ns);
  CHECK(bb::whole_seconds_up(ns) == seconds);
}

TEST_CASE("client_key_of keys IPv4 by address and IPv6 by prefix", "[limit][key]") {
  auto [a, b, prefix, same] = GENERATE(table<std::string, std::string, unsigned, bool>({
      {"10.0.0.1", "10.0.0.1", 64, true},
      {"10.0.0.1", "10.0.0.2", 64, false},
      {"10.0.0.1", "::ffff:10.0.0.1", 64, true},  // what a dual-stack socket reports
      {"10.0.0.1", "::ffff:10.0.0.2", 64, false},
      {"0.0.0.0", "::", 64, false},
      {"0.0.0.0", "::", 0, false},
      {"::1", "::", 128, false},
      {"::1", "::", 64, true},
      {"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 64, true},
      {"2001:db8:1:2::1", "2001:db8:1:3::1", 64, false},
      {"2001:db8:1:2::1", "2001:db8:1:3::1", 56, true},
      {"2001:db8:1:2::1", "2001:db8:1:2::2", 128, false},
      {"2001:db8:1:2::1", "2001:db8:1:2::1", 128, true},
      {"2001:db8:1:2:aaaa::1", "2001:db8:1:2:aaab::1", 80, false},
      {"2001:db8:1:2:aaaa::1", "2001:db8:1:2:aaab::1", 79, true},
      {"2001:db8::", "fe80::", 0, true},
      {"2001:db8::", "2001:db9::", 31, true},
      {"2001:db8::", "2001:db9::", 32, false},
  }));
  CAPTURE(a, b, prefix);
  const auto ia = bb::ip_address::parse(a), ib = bb::ip_address::parse(b);
  REQUIRE(ia);
  REQUIRE(ib);
  CHECK((bb::client_key_of(*ia, prefix) == bb::client_key_of(*ib, prefix)) == same);
}

TEST_CASE("client_key_of gives IPv4 its mapped IPv6 form", "[limit][key]") {
  const auto k = bb::client_key_of(bb::ip_address::v4(192, 0, 2, 7));
  CHECK(k.hi == 0);
  CHECK(k.lo == 0x0000'ffff'c000'0207);
}
