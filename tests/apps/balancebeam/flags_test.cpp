// balancebeam's flag table read as a command line, without starting a process: the setting
// each flag sets, the one line each bad value gets, and the defaults of the rest.

#include <apps/balancebeam/flags.hpp>
#include <cli/usage.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

using balancebeam::settings;
using bb::cli::usage_error;
using namespace std::chrono_literals;

namespace {

// What the fake resolver answers for a name it does not know.
std::error_code unresolvable() { return {EHOSTUNREACH, std::generic_category()}; }

// A resolver that knows two names, and the names it was asked for.
struct fake_dns {
  std::shared_ptr<std::vector<std::string>> asked = std::make_shared<std::vector<std::string>>();

  balancebeam::resolve_fn fn() const {
    return [asked = asked](const std::string& host, std::uint16_t port) -> bb::result<bb::endpoint> {
      asked->push_back(host);
      if (host == "localhost") return bb::endpoint{*bb::ip_address::parse("127.0.0.1"), port};
      if (host == "db.internal") return bb::endpoint{*bb::ip_address::parse("10.0.0.7"), port};
      return unresolvable();
    };
  }
};

bb::cli::command_line<settings> parse(const std::vector<std::string>& args, const fake_dns& dns = {}) {
  return balancebeam::parse_cli(args, dns.fn());
}

// `args` after one upstream, which every command line needs.
std::vector<std::string> with_upstream(std::vector<std::string> args) {
  args.insert(args.begin(), {"-u", "127.0.0.1:1"});
  return args;
}

bb::endpoint ep(const char* text) { return *bb::endpoint::parse(text); }

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += a + ' ';
  return s;
}

}  // namespace

TEST_CASE("balancebeam::parse_cli sets the setting each flag names", "[cli][balancebeam]") {
  struct good_line {
    std::vector<std::string> args;
    std::function<void(const settings&)> check;
  };
  const auto c = GENERATE(values<good_line>({
      {{"-b", "127.0.0.1:8080"}, [](const settings& s) { CHECK(s.proxy.bind == ep("127.0.0.1:8080")); }},
      {{"--bind", "[::1]:80"}, [](const settings& s) { CHECK(s.proxy.bind == ep("[::1]:80")); }},
      {{"--bind=localhost:9"}, [](const settings& s) { CHECK(s.proxy.bind == ep("127.0.0.1:9")); }},
      {{"-u", "db.internal:5432,weight=3"},
       [](const settings& s) {
         REQUIRE(s.proxy.upstreams.size() == 2);
         CHECK(s.proxy.upstreams[1].name == "db.internal:5432");
         CHECK(s.proxy.upstreams[1].address == ep("10.0.0.7:5432"));
         CHECK(s.proxy.upstreams[1].weight == 3);
         CHECK(s.proxy.upstreams[0].weight == 1);
       }},
      {{"--balance", "peak-ewma"},
       [](const settings& s) { CHECK(s.proxy.balance.policy == bb::balance_policy::peak_ewma); }},
      {{"--balance", "round-robin"},
       [](const settings& s) { CHECK(s.proxy.balance.policy == bb::balance_policy::round_robin); }},
      {{"--ewma-decay", "0.25"}, [](const settings& s) { CHECK(s.proxy.balance.ewma_decay == 250ms); }},
      {{"--active-health-check-interval", "0"},
       [](const settings& s) {
         CHECK(s.proxy.health.interval == 0s);
         CHECK_FALSE(s.proxy.health.active());
       }},
      {{"--active-health-check-interval", "86400"}, [](const settings& s) { CHECK(s.proxy.health.interval == 24h); }},
      {{"--active-health-check-path", "/healthz"}, [](const settings& s) { CHECK(s.proxy.health.path == "/healthz"); }},
      {{"--health-rise", "3", "--health-fall", "1000"},
       [](const settings& s) {
         CHECK(s.proxy.health.rise == 3);
         CHECK(s.proxy.health.fall == 1000);
       }},
      {{"--upstream-connect-timeout", "0.5"},
       [](const settings& s) { CHECK(s.proxy.upstream_connect_timeout == 500ms); }},
      {{"--upstream-response-timeout", "86400"},
       [](const settings& s) { CHECK(s.proxy.upstream_response_timeout == 24h); }},
      {{"--upstream-idle-timeout", "1"}, [](const settings& s) { CHECK(s.proxy.upstream_idle_timeout == 1s); }},
      {{"--client-header-timeout", "0.001"}, [](const settings& s) { CHECK(s.proxy.client_header_timeout == 1ms); }},
      {{"--client-idle-timeout", "5"}, [](const settings& s) { CHECK(s.proxy.client_idle_timeout == 5s); }},
      {{"--body-idle-timeout", "7.5"}, [](const settings& s) { CHECK(s.proxy.body_idle_timeout == 7500ms); }},
      {{"--max-header-bytes", "1024"}, [](const settings& s) { CHECK(s.proxy.limits.max_head_bytes == 1024); }},
      {{"--max-header-bytes", "1048576"}, [](const settings& s) { CHECK(s.proxy.limits.max_head_bytes == 1048576); }},
      {{"--max-headers", "10000"}, [](const settings& s) { CHECK(s.proxy.limits.max_headers == 10000); }},
      {{"--max-body-bytes", "0"}, [](const settings& s) { CHECK(s.proxy.limits.max_body_bytes == UINT64_MAX); }},
      {{"--max-body-bytes", "5"}, [](const settings& s) { CHECK(s.proxy.limits.max_body_bytes == 5); }},
      {{"--max-connections", "0"}, [](const settings& s) { CHECK(s.proxy.max_connections == 0); }},
      {{"--max-connections", "16777216"}, [](const settings& s) { CHECK(s.proxy.max_connections == 16777216); }},
      {{"--max-requests-per-minute", "60"},
       [](const settings& s) {
         CHECK(s.proxy.rate_limit.limit == 60);
         CHECK(s.proxy.rate_limit.enabled());
       }},
      {{"--rate-limit", "gcra", "--rate-limit-burst", "0"},
       [](const settings& s) {
         CHECK(s.proxy.rate_limit.algorithm == bb::rate_limit_algorithm::gcra);
         CHECK(s.proxy.rate_limit.burst == 0);
       }},
      {{"--rate-limit", "sliding-window"},
       [](const settings& s) { CHECK(s.proxy.rate_limit.algorithm == bb::rate_limit_algorithm::sliding_window); }},
      {{"--trusted-proxy", "10.1.1.1"},
       [](const settings& s) {
         CHECK(s.proxy.clients.trusted_proxies == std::vector<bb::ip_address>{*bb::ip_address::parse("10.1.1.1")});
       }},
      {{"--threads", "1024"}, [](const settings& s) { CHECK(s.threads == 1024u); }},
      {{"--threads=1"}, [](const settings& s) { CHECK(s.threads == 1u); }},
      {{"--log-level", "warning"}, [](const settings& s) { CHECK(s.log_level == bb::log_level::warn); }},
      {{"--log-level", "off"}, [](const settings& s) { CHECK(s.log_level == bb::log_level::off); }},
      {{"--seed", "18446744073709551615"}, [](const settings& s) { CHECK(s.seed == UINT64_MAX); }},
      {{"--seed", "0"}, [](const settings& s) { CHECK(s.seed == 0u); }},
  }));
  const auto args = with_upstream(c.args);
  INFO("balancebeam " << joined(args));
  const auto r = parse(args);
  REQUIRE_FALSE(r.error);
  CHECK(r.request.empty());
  c.check(r.settings);
}

TEST_CASE("balancebeam::parse_cli refuses each bad value with one line naming the flag, exit 2", "[cli][balancebeam]") {
  struct bad_value {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string whole_1024 = "(expected a whole number 1024..1048576)";
  const std::string any_u64 = "(expected a whole number 0..18446744073709551615)";
  const std::string secs = "(expected seconds, more than 0 and at most 86400)";
  const std::string upstream_form = "(expected host:port or host:port,weight=N with N 1..1000)";
  const auto c = GENERATE_COPY(values<bad_value>({
      {{"--bind", "nonsense"}, "invalid value for --bind: 'nonsense' (expected host:port)"},
      {{"--bind", ":80"}, "invalid value for --bind: ':80' (expected host:port)"},
      {{"--bind", "127.0.0.1:65536"}, "invalid value for --bind: '127.0.0.1:65536' (expected host:port)"},
      {{"--bind", "nowhere.invalid:80"},
       "invalid value for --bind: 'nowhere.invalid:80' (cannot resolve: " + unresolvable().message() + ")"},
      {{"-u", "foo"}, "invalid value for --upstream: 'foo' (expected host:port)"},
      {{"-u", "foo,weight=2"}, "invalid value for --upstream: 'foo,weight=2' (expected host:port)"},
      {{"-u", "nowhere.invalid:80"},
       "invalid value for --upstream: 'nowhere.invalid:80' (cannot resolve: " + unresolvable().message() + ")"},
      {{"-u", "127.0.0.1:2,weight=0"}, "invalid value for --upstream: '127.0.0.1:2,weight=0' " + upstream_form},
      {{"-u", "127.0.0.1:2,weight=1001"}, "invalid value for --upstream: '127.0.0.1:2,weight=1001' " + upstream_form},
      {{"-u", "127.0.0.1:2,w=2"}, "invalid value for --upstream: '127.0.0.1:2,w=2' " + upstream_form},
      {{"-u", "127.0.0.1:2,"}, "invalid value for --upstream: '127.0.0.1:2,' " + upstream_form},
      {{"--balance", "fastest"},
       "invalid value for --balance: 'fastest' (expected random, round-robin, least-requests, p2c, "
       "consistent-hash or peak-ewma)"},
      {{"--ewma-decay", "0"}, "invalid value for --ewma-decay: '0' " + secs},
      {{"--active-health-check-interval", "soon"},
       "invalid value for --active-health-check-interval: 'soon' (expected a whole number 0..86400)"},
      {{"--active-health-check-interval", "0.5"},
       "invalid value for --active-health-check-interval: '0.5' (expected a whole number 0..86400)"},
      {{"--active-health-check-interval", "86401"},
       "invalid value for --active-health-check-interval: '86401' (expected a whole number 0..86400)"},
      {{"--active-health-check-path", "healthz"},
       "invalid value for --active-health-check-path: 'healthz' (expected a path starting with /)"},
      {{"--health-rise", "0"}, "invalid value for --health-rise: '0' (expected a whole number 1..1000)"},
      {{"--health-fall", "1001"}, "invalid value for --health-fall: '1001' (expected a whole number 1..1000)"},
      {{"--upstream-connect-timeout", "-1"}, "invalid value for --upstream-connect-timeout: '-1' " + secs},
      {{"--upstream-response-timeout", "1s"}, "invalid value for --upstream-response-timeout: '1s' " + secs},
      {{"--upstream-idle-timeout", "-1"}, "invalid value for --upstream-idle-timeout: '-1' " + secs},
      {{"--client-header-timeout", "0"}, "invalid value for --client-header-timeout: '0' " + secs},
      {{"--client-header-timeout", "soon"}, "invalid value for --client-header-timeout: 'soon' " + secs},
      {{"--client-idle-timeout", "-1"}, "invalid value for --client-idle-timeout: '-1' " + secs},
      {{"--body-idle-timeout", "0.0"}, "invalid value for --body-idle-timeout: '0.0' " + secs},
      {{"--body-idle-timeout", "100000"}, "invalid value for --body-idle-timeout: '100000' " + secs},
      {{"--max-header-bytes", "100"}, "invalid value for --max-header-bytes: '100' " + whole_1024},
      {{"--max-header-bytes", "16k"}, "invalid value for --max-header-bytes: '16k' " + whole_1024},
      {{"--max-headers", "0"}, "invalid value for --max-headers: '0' (expected a whole number 1..10000)"},
      {{"--max-body-bytes", "-1"}, "invalid value for --max-body-bytes: '-1' " + any_u64},
      {{"--max-connections", "many"},
       "invalid value for --max-connections: 'many' (expected a whole number 0..16777216)"},
      {{"--max-connections", "99999999999"},
       "invalid value for --max-connections: '99999999999' (expected a whole number 0..16777216)"},
      {{"--max-requests-per-minute", "1073741825"},
       "invalid value for --max-requests-per-minute: '1073741825' (expected a whole number 0..1073741824)"},
      {{"--rate-limit", "token-bucket"},
       "invalid value for --rate-limit: 'token-bucket' (expected fixed-window, sliding-window or gcra)"},
      {{"--rate-limit-burst", "-1"},
       "invalid value for --rate-limit-burst: '-1' (expected a whole number 0..1073741824)"},
      {{"--trusted-proxy", "10.0.0.1:80"}, "invalid value for --trusted-proxy: '10.0.0.1:80' (expected an IP address)"},
      {{"--threads", "-1"}, "invalid value for --threads: '-1' (expected a whole number 1..1024)"},
      {{"--threads=0"}, "invalid value for --threads: '0' (expected a whole number 1..1024)"},
      {{"--threads", "1025"}, "invalid value for --threads: '1025' (expected a whole number 1..1024)"},
      {{"--log-level", "loud"}, "invalid value for --log-level: 'loud' (expected debug, info, warn, error or off)"},
      {{"--seed", "x"}, "invalid value for --seed: 'x' " + any_u64},
  }));
  const auto args = with_upstream(c.args);
  INFO("balancebeam " << joined(args));
  const auto r = parse(args);
  REQUIRE(r.error);
  CHECK(*r.error == usage_error{2, c.message});
}

TEST_CASE("balancebeam::parse_cli without --upstream is exit 1 with one line, after a bad --bind",
          "[cli][balancebeam]") {
  const auto r = parse({"--bind", "127.0.0.1:0"});
  REQUIRE(r.error);
  CHECK(*r.error == usage_error{1, "at least one --upstream host:port is required"});
  // --bind is read first, as it always was; every other flag after the upstreams.
  CHECK(parse({"--bind", "nonsense"}).error->exit_status == 2);
  CHECK(parse({"--threads", "0"}).error->exit_status == 1);
}

TEST_CASE("balancebeam::parse_cli keeps every --upstream and --trusted-proxy in order, never comma-split",
          "[cli][balancebeam]") {
  const auto r = parse({"-u", "127.0.0.1:1,weight=3", "--upstream", "localhost:2", "-u127.0.0.1:3", "--trusted-proxy",
                        "10.0.0.1", "--trusted-proxy=::1"});
  REQUIRE_FALSE(r.error);
  const auto& ups = r.settings.proxy.upstreams;
  REQUIRE(ups.size() == 3);
  CHECK(ups[0].name == "127.0.0.1:1");
  CHECK(ups[0].weight == 3);
  CHECK(ups[1].name == "localhost:2");
  CHECK(ups[1].address == ep("127.0.0.1:2"));
  CHECK(ups[2].address == ep("127.0.0.1:3"));
  CHECK(r.settings.proxy.clients.trusted_proxies ==
        std::vector<bb::ip_address>{*bb::ip_address::parse("10.0.0.1"), *bb::ip_address::parse("::1")});
  // A repeated single-valued flag: the last one counts.
  CHECK(parse(with_upstream({"--balance", "p2c", "--balance", "random"})).settings.proxy.balance.policy ==
        bb::balance_policy::random);
}

TEST_CASE("balancebeam::parse_cli leaves what no flag sets as a default proxy_config has it", "[cli][balancebeam]") {
  const auto r = parse({"-u", "127.0.0.1:1"});
  REQUIRE_FALSE(r.error);
  const bb::proxy_config& got = r.settings.proxy;
  const bb::proxy_config want;
  CHECK(got.bind == want.bind);
  CHECK(got.upstreams.size() == 1);
  CHECK(got.balance.policy == want.balance.policy);
  CHECK(got.balance.ewma_decay == want.balance.ewma_decay);
  CHECK(got.limits.max_head_bytes == want.limits.max_head_bytes);
  CHECK(got.limits.max_headers == want.limits.max_headers);
  CHECK(got.limits.max_body_bytes == want.limits.max_body_bytes);
  CHECK(got.max_connections == want.max_connections);
  CHECK(got.client_idle_timeout == want.client_idle_timeout);
  CHECK(got.client_header_timeout == want.client_header_timeout);
  CHECK(got.upstream_connect_timeout == want.upstream_connect_timeout);
  CHECK(got.upstream_response_timeout == want.upstream_response_timeout);
  CHECK(got.body_idle_timeout == want.body_idle_timeout);
  CHECK(got.upstream_idle_timeout == want.upstream_idle_timeout);
  CHECK(got.linger_timeout == want.linger_timeout);
  CHECK(got.shutdown_grace == want.shutdown_grace);
  CHECK(got.health.interval == want.health.interval);
  CHECK(got.health.path == want.health.path);
  CHECK(got.health.rise == want.health.rise);
  CHECK(got.health.fall == want.health.fall);
  CHECK(got.health.timeout == want.health.timeout);
  CHECK(got.health.passive_backoff == want.health.passive_backoff);
  CHECK(got.health.passive_backoff_max == want.health.passive_backoff_max);
  CHECK(got.rate_limit.limit == want.rate_limit.limit);
  CHECK(got.rate_limit.algorithm == want.rate_limit.algorithm);
  CHECK(got.rate_limit.burst == want.rate_limit.burst);
  CHECK(got.rate_limit.window == want.rate_limit.window);
  CHECK(got.clients.trusted_proxies == want.clients.trusted_proxies);
  CHECK(got.clients.ipv6_prefix == want.clients.ipv6_prefix);
  // Decided by main() when absent: one thread per core, a seed drawn at start.
  CHECK_FALSE(r.settings.threads);
  CHECK_FALSE(r.settings.seed);
  CHECK(r.settings.log_level == bb::log_level::info);
}

TEST_CASE("balancebeam::parse_cli asks the injected resolver for names only, never for IPs", "[cli][balancebeam]") {
  const fake_dns dns;
  REQUIRE_FALSE(parse({"-b", "[::]:80", "-u", "127.0.0.1:1", "-u", "10.0.0.2:1"}, dns).error);
  CHECK(dns.asked->empty());
  REQUIRE_FALSE(parse({"-b", "localhost:80", "-u", "db.internal:1,weight=2"}, dns).error);
  CHECK(*dns.asked == std::vector<std::string>{"localhost", "db.internal"});
  // Without a resolver a name cannot be read, but nothing else changes.
  const auto none = balancebeam::parse_cli({"-u", "localhost:1"}, {});
  REQUIRE(none.error);
  CHECK(none.error->message == "invalid value for --upstream: 'localhost:1' (cannot resolve: no resolver)");
}

TEST_CASE("balancebeam::parse_cli answers -h, --help and the hidden --help-markdown as requests",
          "[cli][balancebeam]") {
  CHECK(parse({"--help"}).request == "help");
  CHECK(parse({"-h", "--threads", "0"}).request == "help");
  CHECK(parse({"--help-markdown"}).request == "help-markdown");
  CHECK_FALSE(parse({"--help"}).error);
  CHECK(*parse({"--help", "--bogus"}).error == usage_error{2, "unknown flag --bogus"});
}

TEST_CASE("balancebeam::help_text lists every flag of the table but the hidden", "[cli][balancebeam]") {
  const auto help = balancebeam::help_text();
  CHECK(help.starts_with("balancebeam: a load-balancing HTTP/1.1 reverse proxy.\n"));
  for (const auto& f : balancebeam::flag_table({})) {
    const std::string names = (f.short_name ? std::string("-") + f.short_name + ", " : "") + "--" + std::string(f.name);
    INFO(names);
    if (f.hidden) {
      const std::string flag = "--" + std::string(f.name);
      CHECK_THAT(help, !Catch::Contains(flag + " ") && !Catch::Contains(flag + "\n"));
    } else {
      CHECK_THAT(help, Catch::Contains("  " + names + (f.is_switch() ? "\n" : " ")));
      CHECK_THAT(help, Catch::Contains(bb::cli::plain(bb::cli::meaning_of(f)).substr(0, 20)));
    }
  }
}

TEST_CASE("balancebeam's flag table says of every flag that takes a value what it is when absent",
          "[cli][balancebeam]") {
  for (const auto& f : balancebeam::flag_table({})) {
    INFO("--" << f.name);
    CHECK_FALSE(f.meaning.empty());
    if (f.request) continue;
    CHECK_FALSE(f.value_name.empty());
    CHECK((f.default_value || !f.default_shown.empty() || f.repeatable));
    CHECK_FALSE(f.sets.expected.empty());
  }
}
