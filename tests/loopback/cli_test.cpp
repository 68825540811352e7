// The balancebeam command line as a user meets it: help, missing and malformed flags.
// A usage error is one line on stderr that names the flag, and exit status 2; a missing
// upstream is exit status 1, as in CS110L.

#include "child_process.hpp"
#include "server_process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace bb_test;

namespace {

struct outcome {
  exit_status status;
  std::string out;
  std::string err;
};

outcome run_balancebeam(const std::vector<std::string>& args) {
  child_process c(BB_BALANCEBEAM_PATH, args);
  const auto st = run_to_exit(c);
  return {st, c.out(), c.err()};
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("balancebeam --help prints the flags and exits 0", "[loopback][balancebeam][cli]") {
  const auto r = run_balancebeam({"--help"});
  CHECK(r.status == exit_code(0));
  CHECK_THAT(r.out, Catch::Contains("--upstream"));
  CHECK_THAT(r.out, Catch::Contains("--bind"));
  CHECK_THAT(r.out, Catch::Contains("--active-health-check-interval"));
  CHECK_THAT(r.out, Catch::Contains("--max-requests-per-minute"));
  for (const char* flag : {"--client-header-timeout", "--client-idle-timeout", "--upstream-response-timeout",
                           "--body-idle-timeout", "--upstream-idle-timeout", "--max-header-bytes", "--max-headers", "--max-body-bytes",
                           "--max-connections"})
    CHECK_THAT(r.out, Catch::Contains(flag));
}

TEST_CASE("balancebeam without --upstream exits 1 with one line of explanation", "[loopback][balancebeam][cli]") {
  const auto r = run_balancebeam({"--bind", "127.0.0.1:0"});
  INFO("stderr: " << r.err);
  CHECK(r.status == exit_code(1));
  CHECK(lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("upstream"));
}

TEST_CASE("balancebeam rejects a malformed flag value with exit 2 and one line naming the flag",
          "[loopback][balancebeam][cli]") {
  struct bad_flag {
    std::vector<std::string> args;
    std::string named;
  };
  const auto c = GENERATE(values<bad_flag>({
      {{"--bind", "nonsense", "--upstream", "127.0.0.1:1"}, "--bind"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--threads", "-1"}, "--threads"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--threads=-1"}, "--threads"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--active-health-check-interval", "soon"},
       "--active-health-check-interval"},
      // Timeouts: seconds, more than 0, fractions allowed (as --upstream-connect-timeout).
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--client-header-timeout", "0"}, "--client-header-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--client-header-timeout", "soon"},
       "--client-header-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--client-idle-timeout", "-1"}, "--client-idle-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--upstream-response-timeout", "1s"},
       "--upstream-response-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--body-idle-timeout", "0.0"}, "--body-idle-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--body-idle-timeout", "100000"}, "--body-idle-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--upstream-idle-timeout", "-1"}, "--upstream-idle-timeout"},
      // Limits: whole numbers in range.
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--max-header-bytes", "100"}, "--max-header-bytes"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--max-header-bytes", "16k"}, "--max-header-bytes"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--max-headers", "0"}, "--max-headers"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--max-body-bytes", "-1"}, "--max-body-bytes"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--max-connections", "many"}, "--max-connections"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--max-connections", "99999999999"}, "--max-connections"},
  }));
  std::string cmd;
  for (const auto& a : c.args) cmd += a + ' ';
  const auto r = run_balancebeam(c.args);
  INFO("balancebeam " << cmd << "\nstderr: " << r.err);
  CHECK(r.status == exit_code(2));
  CHECK(lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains(c.named));
}
