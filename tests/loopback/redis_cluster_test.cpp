// Rate limits shared through a three-node Redis Cluster that the test builds
// (`redis-server --cluster-enabled yes` on three free ports, joined by `redis-cli --cluster
// create`): three balancebeam instances give every client exactly its limit whichever node
// owns its key, and a client whose slot migrates to another node while it sends keeps its
// count exactly (ASK while the slot moves, MOVED once it has).

#include "checks.hpp"
#include "redis_server.hpp"
#include "test_upstream.hpp"

#include <bb/core/client_key.hpp>
#include <bb/limit/redis_scripts.hpp>
#include <bb/redis/slot.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace bb_test;
using namespace std::chrono_literals;

namespace {

/// balancebeam limiting through the cluster, believing 127.0.0.1's X-Forwarded-For (the
/// test's clients are named by it); returns once it has learnt the slot map.
std::unique_ptr<server_process> start_on_cluster(const test_upstream& upstream, redis_cluster& cluster) {
  auto p = std::make_unique<server_process>(start_balancebeam(
      {upstream.address()}, {"--rate-limit-store", cluster.url(), "--max-requests-per-minute", "5", "--rate-limit",
                             "gcra", "--threads", "2", "--trusted-proxy", "127.0.0.1", "--redis-timeout", "0.2"}));
  const bool mapped = eventually([&] {
    const auto err = p->child().err();
    std::size_t n = 0;
    for (auto at = err.find("16384 slots covered"); at != std::string::npos;
         at = err.find("16384 slots covered", at + 1))
      ++n;
    return n >= 2;  // both workers
  });
  INFO("stderr:\n" << p->child().err());
  REQUIRE(mapped);
  return p;
}

/// One request as client `ip`; its status, and whether Redis counted it.
struct answer {
  int status;
  bool counted;
};
answer ask_as(server_process& proxy, const std::string& ip) {
  http_client c(proxy.port());
  const auto r = c.request("GET", "/", {}, "X-Forwarded-For: " + ip + "\r\n");
  return {r.status, r.header("x-ratelimit-limit").has_value()};
}

std::string key_of(const std::string& ip) {
  return bb::redis_key("bb:rl:", bb::rate_limit_algorithm::gcra, bb::client_key_of(*bb::ip_address::parse(ip)));
}

}  // namespace

TEST_CASE("three balancebeam instances on a three-node Redis Cluster give every client exactly its limit",
          "[loopback][redis][cluster]") {
  redis_cluster cluster;
  test_upstream upstream;
  std::vector<std::unique_ptr<server_process>> proxies;
  for (int i = 0; i < 3; ++i) proxies.push_back(start_on_cluster(upstream, cluster));
  // Clients whose keys land on every node.
  std::vector<std::string> clients;
  std::set<std::size_t> nodes_hit;
  for (int i = 1; clients.size() < 6 && i < 200; ++i) {
    const std::string ip = "198.51.100." + std::to_string(i);
    const auto owner = cluster.owner(bb::redis::key_slot(key_of(ip)));
    if (nodes_hit.size() < 3 && nodes_hit.contains(owner)) continue;
    nodes_hit.insert(owner);
    clients.push_back(ip);
  }
  REQUIRE(nodes_hit.size() == 3);
  for (const auto& ip : clients) {
    CAPTURE(ip);
    int admitted = 0;
    for (int i = 0; i < 9; ++i) {
      const auto a = ask_as(*proxies[static_cast<std::size_t>(i) % 3], ip);
      CHECK(a.counted);
      admitted += a.status == 200;
    }
    CHECK(admitted == 5);
  }
  for (auto& p : proxies) stop_cleanly(*p);
}

TEST_CASE("a client whose slot migrates between cluster nodes while it sends keeps its count exactly",
          "[loopback][redis][cluster]") {
  redis_cluster cluster;
  test_upstream upstream;
  std::vector<std::unique_ptr<server_process>> proxies;
  for (int i = 0; i < 3; ++i) proxies.push_back(start_on_cluster(upstream, cluster));
  const std::string ip = "203.0.113.9";
  const std::string key = key_of(ip);
  const auto slot = bb::redis::key_slot(key);
  const std::string slot_text = std::to_string(slot);
  const std::size_t from = cluster.owner(slot), to = (from + 1) % 3;
  const auto from_id = cluster.id(from), to_id = cluster.id(to);
  int admitted = 0, sent = 0;
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i, ++sent) {
      const auto a = ask_as(*proxies[static_cast<std::size_t>(sent) % 3], ip);
      CHECK(a.counted);  // every answer from the cluster, none from the on-error policy
      admitted += a.status == 200;
    }
  };
  send(2);  // on the owner
  REQUIRE(cluster.node(to).call({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", from_id}).str == "OK");
  REQUIRE(cluster.node(from).call({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", to_id}).str == "OK");
  send(1);  // the key is still on the old owner, which answers
  const auto port = std::to_string(cluster.node(to).port());
  REQUIRE(cluster.node(from).call({"MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", key}).str == "OK");
  send(1);  // the key has moved, the slot not yet: ASK, then ASKING + EVALSHA on the new owner
  for (std::size_t i = 0; i < 3; ++i)
    REQUIRE(cluster.node(i).call({"CLUSTER", "SETSLOT", slot_text, "NODE", to_id}).str == "OK");
  send(4);  // the slot has moved: MOVED, the map is refreshed
  CHECK(admitted == 5);
  CHECK(sent == 8);
  CHECK(cluster.owner(slot) == to);
  for (auto& p : proxies) stop_cleanly(*p);
}
