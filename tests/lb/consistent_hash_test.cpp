#include "lb_support.hpp"

#include <bb/lb/consistent_hash.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using lb_test::client;
using lb_test::make_cluster;

namespace {
constexpr std::uint32_t keys = 10'000;

std::vector<std::size_t> map_all(const bb::consistent_hash_balancer& b, const bb::cluster& c) {
  std::vector<std::size_t> out;
  for (std::uint32_t k = 0; k < keys; ++k)
    out.push_back(*b.pick(lb_test::ctx(c, client(k), 0, false, bb::tried_set(c.size()))));
  return out;
}

std::vector<std::string> names(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back("10.0.0." + std::to_string(i + 1) + ":80");
  return out;
}
}  // namespace

TEST_CASE("consistent_hash_balancer maps a client to the same host every time", "[lb][consistent-hash]") {
  auto c = make_cluster(5);
  bb::consistent_hash_balancer b({1, 1, 1, 1, 1}, names(5));
  const auto ip = *bb::ip_address::parse("192.0.2.7");
  const auto home = *b.pick(lb_test::ctx(c, ip, 0, false, bb::tried_set(5)));
  for (int k = 0; k < 20; ++k) CHECK(*b.pick(lb_test::ctx(c, ip, 0, false, bb::tried_set(5))) == home);
  CHECK(
      *bb::consistent_hash_balancer({1, 1, 1, 1, 1}, names(5)).pick(lb_test::ctx(c, ip, 0, false, bb::tried_set(5))) ==
      home);
  // The ring follows host names, not positions: listing the hosts reversed keeps the client on its host.
  auto reversed = names(5);
  std::reverse(reversed.begin(), reversed.end());
  CHECK(
      *bb::consistent_hash_balancer({1, 1, 1, 1, 1}, reversed).pick(lb_test::ctx(c, ip, 0, false, bb::tried_set(5))) ==
      4 - home);
  // An IPv6 client is its /64, and an IPv4-mapped address is the IPv4 client.
  const auto v6a = *bb::ip_address::parse("2001:db8:1:2::1"), v6b = *bb::ip_address::parse("2001:db8:1:2:ffff::9");
  CHECK(bb::consistent_hash_balancer::client_hash(lb_test::key(v6a)) ==
        bb::consistent_hash_balancer::client_hash(lb_test::key(v6b)));
  CHECK(bb::consistent_hash_balancer::client_hash(lb_test::key(*bb::ip_address::parse("::ffff:192.0.2.7"))) ==
        bb::consistent_hash_balancer::client_hash(lb_test::key(ip)));
}

TEST_CASE("consistent_hash_balancer moves only the leaving host's clients, and moves them back",
          "[lb][consistent-hash]") {
  const std::size_t n = 10;
  auto c = make_cluster(n);
  bb::consistent_hash_balancer b(std::vector<std::uint32_t>(n, 1), names(n));
  const auto before = map_all(b, c);
  std::vector<int> share(n);
  for (auto h : before) ++share[h];
  for (int s : share) CHECK(s == Approx(keys / n).epsilon(0.3));  // 160 points per host: within ~25%

  const std::size_t gone = 3;
  c.set_up(gone, false);
  const auto during = map_all(b, c);
  int moved = 0;
  std::vector<int> received(n);
  for (std::uint32_t k = 0; k < keys; ++k) {
    if (before[k] == gone) {
      REQUIRE(during[k] != gone);
      ++moved, ++received[during[k]];
    } else {
      REQUIRE(during[k] == before[k]);  // exactly the keys that were on it moved
    }
  }
  CHECK(moved == share[gone]);
  CHECK(moved == Approx(keys / n).epsilon(0.3));
  for (std::size_t i = 0; i < n; ++i)
    if (i != gone) CHECK(received[i] < moved / 3);  // spread over the others, not dumped on a neighbour

  c.set_up(gone, true);
  CHECK(map_all(b, c) == before);
}

TEST_CASE("consistent_hash_balancer shares keys by weight", "[lb][consistent-hash]") {
  auto c = make_cluster(2);
  bb::consistent_hash_balancer b({1, 3}, names(2));
  int heavy = 0;
  for (auto h : map_all(b, c)) heavy += h == 1;
  CHECK(heavy == Approx(0.75 * keys).margin(0.05 * keys));
}

TEST_CASE("consistent_hash_balancer bounds the load a hot client puts on its host", "[lb][consistent-hash]") {
  auto c = make_cluster(4);
  const auto hot = *bb::ip_address::parse("198.51.100.1");
  SECTION("with the default factor 1.25 no host exceeds ceil(1.25 x average)") {
    bb::consistent_hash_balancer b({1, 1, 1, 1}, names(4));
    const auto home = *b.pick(lb_test::ctx(c, hot, 0, false, bb::tried_set(4)));
    for (int m = 0; m < 100; ++m) {
      const auto i = *b.pick(lb_test::ctx(c, hot, 0, false, bb::tried_set(4)));
      b.on_start(i);
      const auto cap = static_cast<std::int64_t>(std::ceil(1.25 * (m + 1) / 4));
      for (std::size_t h = 0; h < 4; ++h) REQUIRE(b.in_flight(h) <= cap);
    }
    CHECK(b.in_flight(home) == 32);  // filled to its cap, ceil(1.25 x 100 / 4), first
    b.on_finish(home, lb_test::result(0, true, 0));
    CHECK(*b.pick(lb_test::ctx(c, hot, 0, false, bb::tried_set(4))) == home);  // room again: back home
  }
  SECTION("with the bound off every request goes home") {
    bb::consistent_hash_balancer b({1, 1, 1, 1}, names(4), 0);
    const auto home = *b.pick(lb_test::ctx(c, hot, 0, false, bb::tried_set(4)));
    for (int m = 0; m < 100; ++m) b.on_start(*b.pick(lb_test::ctx(c, hot, 0, false, bb::tried_set(4))));
    CHECK(b.in_flight(home) == 100);
  }
  CHECK_THROWS_AS(bb::consistent_hash_balancer({1, 1}, {}, 0.5), std::invalid_argument);
}

TEST_CASE("consistent_hash_balancer skips dead and tried hosts and says when none is left", "[lb][consistent-hash]") {
  auto c = make_cluster(3);
  bb::consistent_hash_balancer b({1, 1, 1});
  const auto ip = client(77);
  bb::tried_set tried(3);
  const auto first = *b.pick(lb_test::ctx(c, ip, 0, false, tried));
  tried.add(first);
  const auto second = *b.pick(lb_test::ctx(c, ip, 0, false, tried));
  CHECK(second != first);
  lb_test::kill(c, 3 - first - second);
  tried.add(second);
  CHECK_FALSE(b.pick(lb_test::ctx(c, ip, 0, false, tried)));
  CHECK(*b.pick(lb_test::ctx(c, ip, 0, false, bb::tried_set(3))) == first);
}
