// Redis Cluster plumbing without a cluster: the hash slot of a key (hash tags included),
// MOVED and ASK replies read, and CLUSTER SLOTS replies turned into a slot map.

#include <bb/redis/cluster.hpp>
#include <bb/redis/slot.hpp>
#include <catch2/catch.hpp>

namespace redis = bb::redis;

TEST_CASE("redis key_slot is CRC16 mod 16384 of the key or of its hash tag", "[redis][cluster]") {
  // Values from the cluster specification and `redis-cli CLUSTER KEYSLOT`.
  CHECK(redis::key_slot("123456789") == 0x31c3 % 16384);
  CHECK(redis::key_slot("foo") == 12182);
  CHECK(redis::key_slot("bar") == 5061);
  CHECK(redis::key_slot("{user1000}.following") == redis::key_slot("user1000"));
  CHECK(redis::key_slot("foo{}{bar}") == redis::key_slot("foo{}{bar}"));  // an empty tag: the whole key
  CHECK(redis::key_slot("foo{{bar}}zap") == redis::key_slot("{bar"));
  CHECK(redis::key_slot("bb:rl:gcra:10.0.0.1") < redis::slot_count);
}

TEST_CASE("redis redirect_reply reads MOVED and ASK", "[redis][cluster]") {
  const auto moved = redis::redirect_reply::parse(redis::error_reply("MOVED 3999 127.0.0.1:6381"));
  REQUIRE(moved);
  CHECK_FALSE(moved->ask);
  CHECK(moved->slot == 3999);
  CHECK(moved->to == *bb::endpoint::parse("127.0.0.1:6381"));
  const auto ask = redis::redirect_reply::parse(redis::error_reply("ASK 16383 [::1]:7000"));
  REQUIRE(ask);
  CHECK(ask->ask);
  CHECK(ask->slot == 16383);
  for (const char* bad :
       {"MOVED 16384 127.0.0.1:1", "MOVED x 127.0.0.1:1", "MOVED 1 host:1", "NOSCRIPT x", "ERR MOVED"})
    CHECK_FALSE(redis::redirect_reply::parse(redis::error_reply(bad)));
  CHECK_FALSE(redis::redirect_reply::parse(redis::status_reply("MOVED 1 127.0.0.1:1")));
}

TEST_CASE("redis parse_cluster_slots reads each range's master, an empty IP being the node asked", "[redis][cluster]") {
  using namespace redis;
  const auto node = [](std::string ip, std::int64_t port) {
    return array_reply({string_reply(std::move(ip)), integer_reply(port), string_reply("id")});
  };
  const auto r = array_reply({
      array_reply({integer_reply(0), integer_reply(5460), node("127.0.0.1", 7000), node("127.0.0.1", 7003)}),
      array_reply({integer_reply(5461), integer_reply(16383), node("", 7001)}),
  });
  const auto self = *bb::endpoint::parse("10.0.0.9:7001");
  const auto map = parse_cluster_slots(r, self);
  REQUIRE(map);
  REQUIRE(map->size() == 2);
  CHECK((*map)[0].first == std::pair<std::uint16_t, std::uint16_t>{0, 5460});
  CHECK((*map)[0].second == *bb::endpoint::parse("127.0.0.1:7000"));
  CHECK((*map)[1].second == self);
  CHECK_FALSE(parse_cluster_slots(error_reply("ERR This instance has cluster support disabled"), self));
  CHECK_FALSE(
      parse_cluster_slots(array_reply({array_reply({integer_reply(5), integer_reply(1), node("a", 1)})}), self));
}
