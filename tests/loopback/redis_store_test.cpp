// Rate limits shared through a real redis-server by several balancebeam processes
// (`--rate-limit-store redis://...`): exact totals across instances for every algorithm,
// each on-error answer while Redis is dead, recovery after a restart that lost its state,
// scripts recovered after SCRIPT FLUSH, a stalled Redis answered at the timeout, and a
// password that never shows.

#include "checks.hpp"
#include "child_process.hpp"
#include "redis_server.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace bb_test;
using namespace std::chrono_literals;

namespace {

/// How many "connected" lines a balancebeam's log has (one per worker per connection).
std::size_t connected_lines(server_process& p) {
  const auto err = p.child().err();
  std::size_t n = 0;
  for (auto at = err.find(": connected"); at != std::string::npos; at = err.find(": connected", at + 1)) ++n;
  return n;
}

/// balancebeam with its limits in `redis`; returns once every worker has connected.
server_process start_shared(const test_upstream& upstream, const redis_server& redis,
                            const std::vector<std::string>& flags, unsigned threads = 2) {
  std::vector<std::string> args{"--rate-limit-store", redis.url(), "--threads", std::to_string(threads)};
  args.insert(args.end(), flags.begin(), flags.end());
  auto p = start_balancebeam({upstream.address()}, args);
  const bool connected = eventually([&] { return connected_lines(p) >= threads; });
  INFO("stderr:\n" << p.child().err());
  REQUIRE(connected);
  return p;
}

/// The windows are aligned to Redis TIME, the wall clock: a run that crossed a minute's
/// edge would see its count start again, so it starts only with `needed` left.
void wait_for_room_in_wall_minute(std::chrono::seconds needed) {
  using namespace std::chrono;
  const auto into = system_clock::now().time_since_epoch() % minutes(1);
  if (minutes(1) - into < needed) std::this_thread::sleep_for(minutes(1) - into + milliseconds(200));
}

/// A request and how long its answer took.
struct timed_response {
  http_response r;
  std::chrono::milliseconds took;
};
timed_response timed_get(std::uint16_t port, const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  http_client c(port);
  auto r = c.get(path);
  return {std::move(r),
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
}

/// What a request may take beyond --redis-timeout on this machine (a loaded, sanitized run
/// included): the limiter's own wait is bounded by the timeout, the rest is the proxy.
constexpr auto bound = 250ms;

}  // namespace

TEST_CASE("three balancebeam instances sharing one Redis admit exactly the limit in all, for each algorithm",
          "[loopback][redis][store]") {
  const auto algorithm = GENERATE(as<std::string>{}, "fixed-window", "sliding-window", "gcra");
  CAPTURE(algorithm);
  test_upstream upstream;
  redis_server redis;
  constexpr int limit = 20;
  std::vector<std::unique_ptr<server_process>> proxies;
  for (int i = 0; i < 3; ++i)
    proxies.push_back(std::make_unique<server_process>(start_shared(
        upstream, redis, {"--max-requests-per-minute", std::to_string(limit), "--rate-limit", algorithm})));
  wait_for_room_in_wall_minute(10s);

  // One client (127.0.0.1) from three threads, each spreading keep-alive requests over all
  // three proxies: 60 requests, many in flight at once on every worker's connection.
  std::atomic<int> admitted{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      std::vector<std::unique_ptr<http_client>> clients;
      for (auto& p : proxies) clients.push_back(std::make_unique<http_client>(p->port()));
      for (int i = 0; i < 20; ++i) {
        const auto r = clients[static_cast<std::size_t>(i) % 3]->get("/shared");
        (r.status == 200 ? admitted : r.status == 429 ? refused : other)++;
        if (!r.header("x-ratelimit-limit")) other++;  // every answer came from Redis
      }
    });
  for (auto& t : threads) t.join();
  CHECK(admitted == limit);
  CHECK(refused == 60 - limit);
  CHECK(other == 0);
  CHECK(upstream.client_requests() == static_cast<std::size_t>(limit));
  for (auto& p : proxies) stop_cleanly(*p);
}

TEST_CASE(
    "balancebeam answers as --rate-limit-on-error says while Redis is dead, within the timeout, and "
    "resumes limiting after Redis restarts empty",
    "[loopback][redis][store]") {
  test_upstream upstream;
  redis_server redis;
  const std::vector<std::string> common{"--max-requests-per-minute", "3",   "--rate-limit", "gcra",
                                        "--redis-timeout",           "0.05"};
  auto with = [&](const char* mode) {
    auto flags = common;
    flags.insert(flags.end(), {"--rate-limit-on-error", mode});
    return std::make_unique<server_process>(start_shared(upstream, redis, flags));
  };
  auto allow = with("allow"), deny = with("deny"), local = with("local");

  redis.kill();
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    const auto a = timed_get(allow->port(), "/allow");
    CHECK(a.r.status == 200);
    CHECK_FALSE(a.r.header("x-ratelimit-limit"));
    CHECK(a.took < 50ms + bound);
    const auto d = timed_get(deny->port(), "/deny");
    CHECK(d.r.status == 429);
    CHECK(d.r.header("retry-after") == "1");
    CHECK_FALSE(d.r.header("x-ratelimit-limit"));
    CHECK(d.took < 50ms + bound);
    const auto l = timed_get(local->port(), "/local");  // this instance's own limiter: 3 per minute
    CHECK(l.r.status == (i < 3 ? 200 : 429));
    CHECK(l.r.header("x-ratelimit-limit") == "3");
    CHECK(l.took < 50ms + bound);
  }
  CHECK_THAT(allow->child().err(), Catch::Contains("connection lost: closed by the server"));

  redis.restart();  // empty: every count is gone
  for (auto* p : {allow.get(), deny.get(), local.get()}) {
    const bool back = eventually([&] { return connected_lines(*p) >= 4; }, 5s);
    INFO("stderr:\n" << p->child().err());
    CHECK(back);
  }
  int admitted = 0;
  for (int i = 0; i < 6; ++i) {
    auto* p = std::vector{allow.get(), deny.get(), local.get()}[static_cast<std::size_t>(i) % 3];
    const auto r = timed_get(p->port(), "/after");
    CHECK(r.r.header("x-ratelimit-limit") == "3");  // from Redis again
    admitted += r.r.status == 200;
  }
  CHECK(admitted == 3);
  for (auto* p : {allow.get(), deny.get(), local.get()}) stop_cleanly(*p);
}

TEST_CASE("balancebeam recovers the scripts through NOSCRIPT after SCRIPT FLUSH, without losing a count",
          "[loopback][redis][store]") {
  test_upstream upstream;
  redis_server redis;
  auto proxy = start_shared(upstream, redis, {"--max-requests-per-minute", "5", "--rate-limit", "gcra"}, 1);
  http_client c(proxy.port());
  CHECK(c.get("/1").header("x-ratelimit-remaining") == "4");
  CHECK(redis.call({"SCRIPT", "FLUSH"}).str == "OK");
  CHECK(c.get("/2").header("x-ratelimit-remaining") == "3");
  CHECK(c.get("/3").header("x-ratelimit-remaining") == "2");
  const auto stats = redis.call({"INFO", "commandstats"}).str;
  CHECK_THAT(stats, Catch::Contains("cmdstat_eval:calls=1,"));  // one EVAL put the script back
  CHECK_THAT(stats, Catch::Contains("cmdstat_evalsha:calls=3,"));
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam answers within --redis-timeout while Redis stalls (DEBUG SLEEP), then limits again",
          "[loopback][redis][store]") {
  test_upstream upstream;
  redis_server redis;
  auto proxy = start_shared(upstream, redis,
                            {"--max-requests-per-minute", "100", "--rate-limit", "gcra", "--redis-timeout", "0.05",
                             "--rate-limit-on-error", "deny"},
                            1);
  CHECK(http_client(proxy.port()).get("/before").header("x-ratelimit-remaining") == "99");
  redis_connection sleeper(redis.port());
  sleeper.send({"DEBUG", "SLEEP", "0.8"});
  std::this_thread::sleep_for(50ms);
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    const auto r = timed_get(proxy.port(), "/stalled");
    CHECK(r.r.status == 429);
    CHECK_FALSE(r.r.header("x-ratelimit-limit"));
    CHECK(r.took < 50ms + bound);
  }
  CHECK(sleeper.read().str == "OK");  // the sleep is over
  const bool back = eventually([&] { return http_client(proxy.port()).get("/after").status == 200; }, 2s);
  CHECK(back);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam authenticates with --redis-password-file and never shows the password",
          "[loopback][redis][store]") {
  test_upstream upstream;
  redis_server redis({"--requirepass", "hunter2-secret"});
  temp_file right;
  std::ofstream(right.path()) << "hunter2-secret\n";
  SECTION("a wrong password in the url: AUTH refused, logged without it, on-error answers") {
    const std::string url = "redis://:not-the-secret@127.0.0.1:" + std::to_string(redis.port());
    auto proxy = start_balancebeam({upstream.address()}, {"--max-requests-per-minute", "5", "--rate-limit-store", url,
                                                          "--threads", "1", "--rate-limit-on-error", "deny"});
    const bool refused = eventually([&] { return proxy.child().err().find("AUTH refused") != std::string::npos; });
    INFO("stderr:\n" << proxy.child().err());
    CHECK(refused);
    CHECK(http_client(proxy.port()).get("/").status == 429);
    CHECK(proxy.child().err().find("not-the-secret") == std::string::npos);
    CHECK_THAT(proxy.child().err(), Catch::Contains("redis://:***@127.0.0.1"));
    stop_cleanly(proxy);
  }
  SECTION("the password from a file: limits from Redis") {
    auto proxy =
        start_shared(upstream, redis, {"--max-requests-per-minute", "5", "--redis-password-file", right.path()}, 1);
    CHECK(http_client(proxy.port()).get("/").header("x-ratelimit-remaining") == "4");
    CHECK(proxy.child().err().find("hunter2") == std::string::npos);
    stop_cleanly(proxy);
  }
}
