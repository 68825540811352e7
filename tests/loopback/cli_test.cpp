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
  for (const char* flag :
       {"--client-header-timeout", "--client-idle-timeout", "--upstream-response-timeout", "--body-idle-timeout",
        "--upstream-idle-timeout", "--max-header-bytes", "--max-headers", "--max-body-bytes", "--max-connections"})
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
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--client-header-timeout", "0"},
       "--client-header-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--client-header-timeout", "soon"},
       "--client-header-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--client-idle-timeout", "-1"}, "--client-idle-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--upstream-response-timeout", "1s"},
       "--upstream-response-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--body-idle-timeout", "0.0"}, "--body-idle-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--body-idle-timeout", "100000"}, "--body-idle-timeout"},
      {{"--bind", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--upstream-idle-timeout", "-1"},
       "--upstream-idle-timeout"},
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

TEST_CASE("balancebeam --help-markdown prints the README's flag table and exits 0", "[loopback][balancebeam][cli]") {
  const auto r = run_balancebeam({"--help-markdown"});
  CHECK(r.status == exit_code(0));
  CHECK(r.out.starts_with("| flag | default | meaning |\n|---|---|---|\n| `-b, --bind` |"));
  CHECK(r.err.empty());
}

#ifdef BB_SIM_PATH
namespace {

outcome run_sim(const std::vector<std::string>& args) {
  child_process c(BB_SIM_PATH, args);
  const auto st = run_to_exit(c);
  return {st, c.out(), c.err()};
}

}  // namespace

TEST_CASE("sim --help describes every flag and exits 0", "[loopback][sim][cli]") {
  const auto r = run_sim({"--help"});
  CHECK(r.status == exit_code(0));
  CHECK(r.err.empty());
  for (const char* flag :
       {"--list\n", "--scenario NAME", "--seed N", "--seeds A..B", "--duration SECONDS", "--balance POLICY",
        "--timeline FILE", "--case FILE", "--save-case FILE", "--shrink SEED", "--shrink-out FILE", "--shrink-runs N",
        "--no-shrink\n", "--trace\n", "--json\n", "-h, --help\n"})
    CHECK_THAT(r.out, Catch::Contains(std::string("  ") + flag));
}

TEST_CASE("sim rejects a malformed flag value with exit 2 and one line naming the flag", "[loopback][sim][cli]") {
  struct bad_flag {
    std::vector<std::string> args;
    std::string line;
  };
  const auto c = GENERATE(values<bad_flag>({
      {{"--seed", "x"}, "sim: invalid value for --seed: 'x' (expected a whole number 0..18446744073709551615)\n"},
      {{"--seed", "-1"}, "sim: invalid value for --seed: '-1' (expected a whole number 0..18446744073709551615)\n"},
      {{"--seeds", "5..2"}, "sim: invalid value for --seeds: '5..2' (expected A..B, whole numbers with A <= B)\n"},
      {{"--seeds", "3"}, "sim: invalid value for --seeds: '3' (expected A..B, whole numbers with A <= B)\n"},
      {{"--duration", "0"},
       "sim: invalid value for --duration: '0' (expected seconds, more than 0 and at most 86400)\n"},
      {{"--duration", "soon"},
       "sim: invalid value for --duration: 'soon' (expected seconds, more than 0 and at most 86400)\n"},
      {{"--balance", "fastest"},
       "sim: invalid value for --balance: 'fastest' (expected random, round-robin, least-requests, p2c, "
       "consistent-hash, peak-ewma or all)\n"},
      {{"--scenario", "bogus"},
       "sim: invalid value for --scenario: 'bogus' (expected a scenario that sim --list names)\n"},
      {{"--bogus"}, "sim: unknown flag --bogus\n"},
      {{"--seed"}, "sim: missing value for --seed\n"},
      {{"--seeds", "1..2", "--timeline", "t.html"}, "sim: --timeline draws one run: give --seed, not --seeds\n"},
      {{"--timeline"}, "sim: missing value for --timeline\n"},
      {{"--case", "/nonexistent/x.case"}, "sim: /nonexistent/x.case: cannot open\n"},
      {{"--save-case", "x.case"}, "sim: --save-case writes swarm runs: add --swarm\n"},
      {{"--swarm", "--seeds", "1..2", "--save-case", "x.case"},
       "sim: --case and --save-case are one run: give --seed, not --seeds\n"},
      {{"--shrink", "x"}, "sim: invalid value for --shrink: 'x' (expected a whole number 0..18446744073709551615)\n"},
  }));
  std::string cmd;
  for (const auto& a : c.args) cmd += a + ' ';
  const auto r = run_sim(c.args);
  INFO("sim " << cmd);
  CHECK(r.status == exit_code(2));
  CHECK(r.err == c.line);
  CHECK(r.out.empty());
}
#endif
