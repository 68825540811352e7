// balancebeam's Redis store flags: the store url (names resolved once), the password from
// a file, prefix, timeout and on-error policy; a refused url never shows its password.

#include <apps/balancebeam/flags.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

bb::cli::command_line<balancebeam::settings> parse(std::vector<std::string> args) {
  args.insert(args.begin(), {"-u", "127.0.0.1:1"});
  return balancebeam::parse_cli(args, [](const std::string& host, std::uint16_t port) -> bb::result<bb::endpoint> {
    if (host == "redis.internal") return bb::endpoint{*bb::ip_address::parse("10.0.0.9"), port};
    return std::error_code(EHOSTUNREACH, std::generic_category());
  });
}

}  // namespace

TEST_CASE("balancebeam keeps limits in memory unless --rate-limit-store names a Redis", "[apps][flags][redis]") {
  const auto cli = parse({});
  REQUIRE_FALSE(cli.error);
  const auto& r = cli.settings.proxy.rate_limit.redis;
  CHECK_FALSE(r.enabled());
  CHECK(r.prefix == "bb:rl:");
  CHECK(r.timeout == 20ms);
  CHECK(r.on_error == bb::rate_limit_on_error::allow);
}

TEST_CASE("balancebeam reads --rate-limit-store redis://, resolving its host once", "[apps][flags][redis]") {
  const auto cli = parse({"--rate-limit-store", "redis://:pw@redis.internal:6380/3", "--redis-prefix",
                          "x:", "--redis-timeout", "0.005", "--rate-limit-on-error", "local"});
  REQUIRE_FALSE(cli.error);
  const auto& r = cli.settings.proxy.rate_limit.redis;
  CHECK(r.enabled());
  CHECK(r.servers == std::vector<bb::endpoint>{*bb::endpoint::parse("10.0.0.9:6380")});
  CHECK(r.url.password.reveal() == "pw");
  CHECK(r.url.db == 3);
  CHECK(r.url.masked() == "redis://:***@redis.internal:6380/3");
  CHECK(r.prefix == "x:");
  CHECK(r.timeout == 5ms);
  CHECK(r.on_error == bb::rate_limit_on_error::local);
}

TEST_CASE("balancebeam refuses a bad store url in one line that never shows the password", "[apps][flags][redis]") {
  const auto text = GENERATE(as<std::string>{}, "redis://:topsecret@nowhere.invalid:6379", "redis://:topsecret@h",
                             "redis://user:topsecret@127.0.0.1:1", "mysql://:topsecret@h:1");
  CAPTURE(text);
  const auto cli = parse({"--rate-limit-store", text});
  REQUIRE(cli.error);
  CHECK(cli.error->exit_status == 2);
  CHECK(cli.error->message.starts_with("invalid value for --rate-limit-store: '"));
  CHECK(cli.error->message.find("topsecret") == std::string::npos);
  CHECK(cli.error->message.find("***") != std::string::npos);
}

TEST_CASE("balancebeam reads the Redis password from --redis-password-file, dropping one newline",
          "[apps][flags][redis]") {
  char path[] = "/tmp/bb_pw_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << "s3cret\n";
  const auto cli = parse({"--rate-limit-store", "redis://127.0.0.1:6379", "--redis-password-file", path});
  REQUIRE_FALSE(cli.error);
  CHECK(cli.settings.proxy.rate_limit.redis.url.password.reveal() == "s3cret");
  std::ofstream(path) << "";
  const auto empty = parse({"--redis-password-file", path});
  REQUIRE(empty.error);
  CHECK(empty.error->message ==
        std::string("invalid value for --redis-password-file: '") + path + "' (the file is empty)");
  std::remove(path);
  const auto missing = parse({"--redis-password-file", path});
  REQUIRE(missing.error);
  CHECK(missing.error->message.find("cannot read") != std::string::npos);
}

TEST_CASE("balancebeam refuses bad Redis flag values in one line naming the flag", "[apps][flags][redis]") {
  struct row {
    std::vector<std::string> args;
    std::string message;
  };
  const auto r = GENERATE(values<row>({
      {{"--redis-timeout", "0"},
       "invalid value for --redis-timeout: '0' (expected seconds, more than 0 and at most 60)"},
      {{"--rate-limit-on-error", "open"},
       "invalid value for --rate-limit-on-error: 'open' (expected allow, deny or local)"},
      {{"--redis-prefix", ""}, "invalid value for --redis-prefix: '' (expected text that is not empty)"},
  }));
  const auto cli = parse(r.args);
  REQUIRE(cli.error);
  CHECK(cli.error->exit_status == 2);
  CHECK(cli.error->message == r.message);
}

TEST_CASE("balancebeam reads --rate-limit-store redis-cluster:// with its seeds resolved", "[apps][flags][redis]") {
  const auto cli = parse({"--rate-limit-store", "redis-cluster://redis.internal:7000,127.0.0.1:7001"});
  REQUIRE_FALSE(cli.error);
  const auto& r = cli.settings.proxy.rate_limit.redis;
  CHECK(r.url.cluster);
  CHECK(r.servers ==
        std::vector<bb::endpoint>{*bb::endpoint::parse("10.0.0.9:7000"), *bb::endpoint::parse("127.0.0.1:7001")});
}
