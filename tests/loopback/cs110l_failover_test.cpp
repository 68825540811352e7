// CS110L balancebeam test cases 4-6: failover by passive and active health checks,
// against the built balancebeam program with in-process echo and error upstreams.
//
// With active checks every second the upstreams also receive the proxy's checks, so
// these cases count client_requests() (those carrying x-sent-by), not requests().

#include "checks.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace bb_test;

namespace {

/// Long enough for at least two rounds of 1 s active checks (each round lands up to
/// 0.1 s late, by jitter), as the original suite waits.
constexpr auto two_check_rounds = std::chrono::seconds(3);

/// `n` requests, each on a new connection as in the original suite; all must be echoed.
void expect_echoed(server_process& proxy, int n, const std::string& label) {
  for (int i = 0; i < n; ++i) {
    const auto path = "/" + label + "/" + std::to_string(i);
    http_client client(proxy.port());
    INFO("request " << path << "; balancebeam stderr:\n" << proxy.child().err());
    check_echo(client.get(path), "GET " + path + " HTTP/1.1");
  }
}

}  // namespace

TEST_CASE("balancebeam routes around an upstream that went down, by passive health checks (cs110l 4)",
          "[loopback][balancebeam]") {
  // The default (active checks every 10 s, which this case outruns) and checks off
  // (passive backoff only): either way a refused connect ejects the host at once.
  const auto interval = GENERATE(as<std::string>{}, "10", "0");
  INFO("--active-health-check-interval " << interval);
  test_upstream first;
  test_upstream second;
  auto proxy = start_balancebeam({first.address(), second.address()}, {"--active-health-check-interval", interval});

  expect_echoed(proxy, 5, "before");
  second.stop();
  const auto first_before = first.client_requests();
  expect_echoed(proxy, 6, "after");

  CHECK(first.client_requests() - first_before == 6);
  CHECK(first.client_requests() + second.client_requests() == 11);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam stops sending to an upstream whose active checks answer 500 (cs110l 5)",
          "[loopback][balancebeam]") {
  test_upstream good;
  auto replaced = std::make_unique<test_upstream>();
  auto proxy = start_balancebeam({good.address(), replaced->address()}, {"--active-health-check-interval", "1"});

  expect_echoed(proxy, 4, "before");

  // The same address now answers 500 to everything, active checks included.
  const auto port = replaced->port();
  replaced.reset();
  test_upstream error(test_upstream::kind::error, port);
  std::this_thread::sleep_for(two_check_rounds);
  REQUIRE(error.requests() > 0);  // the checks found it

  const auto good_before = good.client_requests();
  expect_echoed(proxy, 8, "after");  // a 500 would fail check_echo
  CHECK(good.client_requests() - good_before == 8);
  CHECK(error.client_requests() == 0);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam sends to a restarted upstream again once an active check passes (cs110l 6)",
          "[loopback][balancebeam]") {
  constexpr int requests_after_restart = 20;
  test_upstream first;
  test_upstream second;
  // One worker and a fixed seed make the balancer's draws repeatable. Even unseeded, the
  // restarted upstream (live again, so drawn with probability 1/2 per request) gets
  // none of 20 requests in one run out of 2^20 ≈ 10^6.
  auto proxy = start_balancebeam({first.address(), second.address()},
                                 {"--active-health-check-interval", "1", "--threads", "1", "--seed", "6"});

  expect_echoed(proxy, 5, "before");
  second.stop();
  expect_echoed(proxy, 6, "down");

  second.start();
  std::this_thread::sleep_for(two_check_rounds);
  const auto second_before = second.client_requests();
  const auto first_before = first.client_requests();
  expect_echoed(proxy, requests_after_restart, "restored");

  const auto to_second = second.client_requests() - second_before;
  INFO("the restarted upstream received " << to_second << " of " << requests_after_restart);
  CHECK(to_second > 0);
  CHECK(to_second + (first.client_requests() - first_before) == requests_after_restart);
  stop_cleanly(proxy);
}
