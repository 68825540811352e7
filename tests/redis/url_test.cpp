// The store url: what --rate-limit-store accepts, and how it is shown without its password.

#include <bb/redis/url.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace redis = bb::redis;

TEST_CASE("redis url parses host, port, password and database", "[redis][url]") {
  struct row {
    std::string text;
    std::string host;
    std::uint16_t port;
    std::string password;
    unsigned db;
    std::string masked;
  };
  const auto r = GENERATE(values<row>({
      {"redis://127.0.0.1:6379", "127.0.0.1", 6379, "", 0, "redis://127.0.0.1:6379"},
      {"redis://:s3cret@localhost:7000/2", "localhost", 7000, "s3cret", 2, "redis://:***@localhost:7000/2"},
      {"redis://:p@ss@w0rd@10.0.0.1:1", "10.0.0.1", 1, "p@ss@w0rd", 0, "redis://:***@10.0.0.1:1"},
      {"redis://[::1]:6380/15", "::1", 6380, "", 15, "redis://[::1]:6380/15"},
  }));
  CAPTURE(r.text);
  const auto u = redis::parse_url(r.text);
  REQUIRE(u.value);
  REQUIRE(u.value->hosts.size() == 1);
  CHECK_FALSE(u.value->cluster);
  CHECK(u.value->hosts[0].host == r.host);
  CHECK(u.value->hosts[0].port == r.port);
  CHECK(u.value->password.reveal() == r.password);
  CHECK(u.value->db == r.db);
  CHECK(u.value->masked() == r.masked);
}

TEST_CASE("redis url takes a list of seeds for a cluster", "[redis][url]") {
  const auto u = redis::parse_url("redis-cluster://10.0.0.1:7000,10.0.0.2:7001");
  REQUIRE(u.value);
  CHECK(u.value->cluster);
  CHECK(u.value->hosts == std::vector<redis::host_port>{{"10.0.0.1", 7000}, {"10.0.0.2", 7001}});
}

TEST_CASE("redis url refuses what it cannot use, without repeating the password", "[redis][url]") {
  const auto text = GENERATE(as<std::string>{}, "http://h:1", "redis://h", "redis://h:0", "redis://h:65536",
                             "redis://h:1/16", "redis://h:1/x", "redis://user:secretpw@h:1", "redis://h:1,h:2",
                             "redis-cluster://h:1/0", "redis-cluster://h:1,", "redis://:secretpw@h");
  CAPTURE(text);
  const auto u = redis::parse_url(text);
  CHECK_FALSE(u.value);
  CHECK_FALSE(u.why.empty());
  CHECK(u.why.find("secretpw") == std::string::npos);
}
