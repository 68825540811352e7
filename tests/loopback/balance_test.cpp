// --balance and weight= as a user meets them: the policy and the weights reach the
// proxy, and bad values are one-line usage errors naming the flag.

#include "checks.hpp"
#include "child_process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace bb_test;

namespace {

// Which origin answered each of `n` requests on one keep-alive connection (the fixed-mode
// origin's body names its address).
std::map<std::string, int> shares(const server_process& proxy, int n) {
  std::map<std::string, int> seen;
  http_client client(proxy.port());
  for (int i = 0; i < n; ++i) {
    const auto r = client.get("/");
    REQUIRE(r.status == 200);
    ++seen[r.body];
  }
  return seen;
}

std::string body_of(const server_process& origin) { return "hello from " + origin.address() + "\n"; }

}  // namespace

TEST_CASE("balancebeam --balance round-robin follows the upstream weights exactly",
          "[loopback][balancebeam][balance]") {
  auto a = start_origin({});
  auto b = start_origin({});
  auto proxy = start_balancebeam({a.address() + ",weight=3", b.address()},
                                 {"--balance", "round-robin", "--threads", "1", "--active-health-check-interval", "0"});
  const auto seen = shares(proxy, 40);
  CHECK(seen.at(body_of(a)) == 30);
  CHECK(seen.at(body_of(b)) == 10);
}

TEST_CASE("balancebeam --balance consistent-hash keeps one client on one upstream",
          "[loopback][balancebeam][balance]") {
  auto a = start_origin({});
  auto b = start_origin({});
  auto c = start_origin({});
  auto proxy = start_balancebeam({a.address(), b.address(), c.address()}, {"--balance", "consistent-hash"});
  const auto seen = shares(proxy, 30);
  CHECK(seen.size() == 1);
}

TEST_CASE("balancebeam --balance random, least-requests, p2c and peak-ewma reach every upstream",
          "[loopback][balancebeam][balance]") {
  const auto policy = GENERATE(as<std::string>{}, "random", "least-requests", "p2c", "peak-ewma");
  INFO("--balance " << policy);
  auto a = start_origin({});
  auto b = start_origin({});
  auto proxy = start_balancebeam({a.address(), b.address()}, {"--balance", policy, "--ewma-decay", "0.5"});
  // Sequential requests leave nothing in flight, so every policy must still use both.
  const auto seen = shares(proxy, 60);
  CHECK(seen.size() == 2);
}

TEST_CASE("balancebeam refuses a bad --balance, --ewma-decay or weight with one line naming the flag",
          "[loopback][balancebeam][cli][balance]") {
  struct bad_flag {
    std::vector<std::string> args;
    std::string named;
  };
  const auto c = GENERATE(values<bad_flag>({
      {{"--upstream", "127.0.0.1:1", "--balance", "fastest"}, "--balance"},
      {{"--upstream", "127.0.0.1:1", "--ewma-decay", "0"}, "--ewma-decay"},
      {{"--upstream", "127.0.0.1:1,weight=0"}, "--upstream"},
      {{"--upstream", "127.0.0.1:1,weight=x"}, "--upstream"},
      {{"--upstream", "127.0.0.1:1,wait=2"}, "--upstream"},
  }));
  std::vector<std::string> args{"--bind", "127.0.0.1:0"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  child_process p(BB_BALANCEBEAM_PATH, args);
  const auto st = run_to_exit(p);
  const auto err = p.err();
  INFO("stderr: " << err);
  CHECK(st == exit_code(2));
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  CHECK_THAT(err, Catch::Contains(c.named));
}
