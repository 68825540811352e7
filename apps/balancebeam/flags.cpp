#include <apps/balancebeam/flags.hpp>

#include <cli/usage.hpp>
#include <cli/values.hpp>

#include <bb/lb/balance_policy.hpp>
#include <bb/limit/config.hpp>
#include <bb/limit/decision.hpp>

#include <chrono>
#include <utility>

namespace balancebeam {

namespace {

using bb::proxy_config;
using bb::cli::append;
using bb::cli::mapped;
using bb::cli::one_of;
using bb::cli::seconds;
using bb::cli::store;
using bb::cli::whole;
using row = bb::cli::flag<settings>;

// bb names the policies; the table says what each one is.
one_of<bb::balance_policy> balance_words() {
  using p = bb::balance_policy;
  const std::pair<p, std::string_view> meanings[] = {
      {p::random, "the original"},       {p::round_robin, "smooth weighted"}, {p::least_requests, ""}, {p::p2c, ""},
      {p::consistent_hash, "client IP"}, {p::peak_ewma, "latency-aware"},
  };
  one_of<p> words;
  for (const auto& [policy, meaning] : meanings) words.words.push_back({bb::to_string(policy), policy, meaning});
  return words;
}

one_of<bb::log_level> log_level_words() {
  using l = bb::log_level;
  return {{{to_string(l::debug), l::debug},
           {to_string(l::info), l::info, "one line per request"},
           {to_string(l::warn), l::warn},
           {"warning", l::warn, "", false},
           {to_string(l::error), l::error},
           {to_string(l::off), l::off}}};
}

one_of<bb::rate_limit_algorithm> rate_limit_words() {
  using a = bb::rate_limit_algorithm;
  return {{{"fixed-window", a::fixed_window, "the original: 60 s windows"},
           {"sliding-window", a::sliding_window, "no burst at window edges"},
           {"gcra", a::gcra, "redis-cell's semantics"}}};
}

one_of<bb::rate_limit_on_error> on_error_words() {
  using e = bb::rate_limit_on_error;
  return {{{"allow", e::allow, "admit, without X-RateLimit headers"},
           {"deny", e::deny, "429 with Retry-After: 1"},
           {"local", e::local, "this instance's in-memory limiter"}}};
}

one_of<bb::access_log_format> access_log_words() {
  using f = bb::access_log_format;
  return {{{"text", f::text, "`IP \"METHOD target\" STATUS UPSTREAM TIMEms id=ID`"},
           {"json", f::json, "one JSON object per line, with time and level"}}};
}

// Whole seconds, where a fraction of one has never been accepted.
auto whole_seconds(std::uint32_t max) {
  return mapped{whole<std::uint32_t>{0, max},
                [](std::uint32_t n) { return std::chrono::nanoseconds(std::chrono::seconds(n)); }};
}

}  // namespace

std::vector<row> flag_table(resolve_fn resolve) {
  using s = settings;
  using p = proxy_config;
  return {
      {.name = "bind",
       .short_name = 'b',
       .value_name = "ADDRESS",
       .default_value = "0.0.0.0:1100",
       .meaning = "address to listen on ({values})",
       .sets = store(address_value{resolve}, &s::proxy, &p::bind)},
      {.name = "upstream",
       .short_name = 'u',
       .value_name = "HOST:PORT[,weight=N]",
       .meaning = "an upstream `host:port` or `host:port,weight=N` ({values}: its share relative to the others); "
                  "at least one, else an error and exit 1",
       .repeatable = true,
       .if_missing = "at least one --upstream host:port is required",
       .sets = append(upstream_value{{resolve}}, &s::proxy, &p::upstreams)},
      {.name = "balance",
       .value_name = "POLICY",
       .default_value = "random",
       .meaning = "how each request's upstream is chosen: {values}; see [Balancing](#balancing)",
       .sets = store(balance_words(), &s::proxy, &p::balance, &bb::balance_config::policy)},
      {.name = "ewma-decay",
       .value_name = "SECONDS",
       .default_value = "10",
       .meaning = "`peak-ewma`: seconds over which its latency average forgets (fractions allowed)",
       .sets = store(seconds{}, &s::proxy, &p::balance, &bb::balance_config::ewma_decay)},
      {.name = "active-health-check-interval",
       .value_name = "SECONDS",
       .default_value = "10",
       .meaning = "whole seconds between active health checks ({values}); 0 turns them off (then a dead upstream is "
                  "retried after a backoff: 10 s, doubling, at most 5 min)",
       .sets = store(whole_seconds(86400), &s::proxy, &p::health, &bb::health_config::interval)},
      {.name = "active-health-check-path",
       .value_name = "PATH",
       .default_value = "/",
       .meaning = "path the active health checks request ({values}; `GET`, `Host: <upstream>`; 200 = healthy)",
       .sets = store(path_value{}, &s::proxy, &p::health, &bb::health_config::path)},
      {.name = "health-rise",
       .value_name = "N",
       .default_value = "1",
       .meaning = "consecutive passed checks that bring a down upstream up ({values})",
       .sets = store(whole<std::uint32_t>{1, 1000}, &s::proxy, &p::health, &bb::health_config::rise)},
      {.name = "health-fall",
       .value_name = "N",
       .default_value = "1",
       .meaning = "consecutive failed checks that take an up upstream down ({values})",
       .sets = store(whole<std::uint32_t>{1, 1000}, &s::proxy, &p::health, &bb::health_config::fall)},
      {.name = "upstream-connect-timeout",
       .value_name = "SECONDS",
       .default_value = "2",
       .meaning = "seconds a connect to an upstream may take before that upstream counts as dead",
       .sets = store(seconds{}, &s::proxy, &p::upstream_connect_timeout)},
      {.name = "upstream-response-timeout",
       .value_name = "SECONDS",
       .default_value = "30",
       .meaning = "seconds an upstream may take to send the whole response head once it has the whole request; "
                  "then 504",
       .sets = store(seconds{}, &s::proxy, &p::upstream_response_timeout)},
      {.name = "upstream-idle-timeout",
       .value_name = "SECONDS",
       .default_value = "60",
       .meaning = "seconds a pooled keep-alive connection to an upstream may sit idle before it is closed (checked "
                  "every second); pooled connections to an upstream that goes down are closed, and none made before "
                  "it came back up is reused",
       .sets = store(seconds{}, &s::proxy, &p::upstream_idle_timeout)},
      {.name = "client-header-timeout",
       .value_name = "SECONDS",
       .default_value = "10",
       .meaning = "seconds a client may take to send a request head (a connection's first: counted from the "
                  "accept); then 408 if part of a head came, a silent close if nothing did",
       .sets = store(seconds{}, &s::proxy, &p::client_header_timeout)},
      {.name = "client-idle-timeout",
       .value_name = "SECONDS",
       .default_value = "60",
       .meaning = "seconds a keep-alive connection may wait for its next request; then closed silently (no 408, as "
                  "nginx)",
       .sets = store(seconds{}, &s::proxy, &p::client_idle_timeout)},
      {.name = "body-idle-timeout",
       .value_name = "SECONDS",
       .default_value = "30",
       .meaning = "seconds a body may stall (no byte moving) while it streams, either way; a stalled request body "
                  "gets 408, anything else is closed",
       .sets = store(seconds{}, &s::proxy, &p::body_idle_timeout)},
      {.name = "max-header-bytes",
       .value_name = "N",
       .default_value = "16384",
       .meaning = "bytes a request head may take ({values}); then 431. Upstream response heads are bounded alike "
                  "(then 502)",
       .sets = store(whole<std::size_t>{1024, 1u << 20}, &s::proxy, &p::limits, &bb::http::limits::max_head_bytes)},
      {.name = "max-headers",
       .value_name = "N",
       .default_value = "100",
       .meaning = "header fields a request head may carry ({values}); then 431. Upstream response heads alike",
       .sets = store(whole<std::size_t>{1, 10000}, &s::proxy, &p::limits, &bb::http::limits::max_headers)},
      {.name = "max-body-bytes",
       .value_name = "N",
       .default_value = "104857600",
       .meaning = "bytes a request body may take; 0 = unlimited; then 413 (at once for Content-Length, when the "
                  "count passes it for chunked)",
       .sets = store(mapped{whole<std::uint64_t>{}, [](std::uint64_t n) { return n == 0 ? UINT64_MAX : n; }}, &s::proxy,
                     &p::limits, &bb::http::limits::max_body_bytes)},
      {.name = "max-connections",
       .value_name = "N",
       .default_value = "10000",
       .meaning = "client connections the process serves at once, all workers together ({values}); 0 = unlimited; "
                  "past it a new connection is closed at once",
       .sets = store(whole<std::uint32_t>{0, 1u << 24}, &s::proxy, &p::max_connections)},
      {.name = "max-requests-per-minute",
       .value_name = "N",
       .default_value = "0",
       .meaning = "per client (IPv4 address, IPv6 /64; {values}); 0 = unlimited; over it: 429",
       .sets = store(whole<std::uint32_t>{0, 1u << 30}, &s::proxy, &p::rate_limit, &bb::rate_limit_config::limit)},
      {.name = "rate-limit",
       .value_name = "ALGORITHM",
       .default_value = "fixed-window",
       .meaning = "how the limit is applied: {values}",
       .sets = store(rate_limit_words(), &s::proxy, &p::rate_limit, &bb::rate_limit_config::algorithm)},
      {.name = "rate-limit-burst",
       .value_name = "N",
       .default_shown = "limit - 1",
       .meaning = "GCRA's burst ({values}): the limit is burst + 1, one more every 60 s / limit",
       .sets = store(whole<std::int64_t>{0, 1 << 30}, &s::proxy, &p::rate_limit, &bb::rate_limit_config::burst)},
      {.name = "rate-limit-store",
       .value_name = "STORE",
       .default_value = "memory",
       .meaning = "where the limits are kept: {values}; see [Shared rate limits](#shared-rate-limits-through-redis)",
       .shown = &store_value::masked,
       .sets = bb::cli::handle<s>(store_value{{resolve}},
                                  [](s& into, store_value::value v) {
                                    auto& r = into.proxy.rate_limit.redis;
                                    r.url = std::move(v.url);
                                    r.servers = std::move(v.servers);
                                  })},
      {.name = "redis-password-file",
       .value_name = "PATH",
       .default_shown = "the url's, if any",
       .meaning = "the Redis password, read from a file ({values}); instead of one in the url; never printed or logged",
       .sets = bb::cli::handle<s>(
           secret_file_value{},
           [](s& into, bb::secret password) { into.proxy.rate_limit.redis.url.password = std::move(password); })},
      {.name = "redis-prefix",
       .value_name = "PREFIX",
       .default_value = "bb:rl:",
       .meaning = "what every Redis key starts with ({values}); a client's key is PREFIX + algorithm + `:` + address",
       .sets = store(nonempty_text{}, &s::proxy, &p::rate_limit, &bb::rate_limit_config::redis,
                     &bb::redis_store_config::prefix)},
      {.name = "redis-timeout",
       .value_name = "SECONDS",
       .default_value = "0.02",
       .meaning = "seconds a decision may wait for Redis ({values}); then the `--rate-limit-on-error` answer applies",
       .sets = store(seconds{60}, &s::proxy, &p::rate_limit, &bb::rate_limit_config::redis,
                     &bb::redis_store_config::timeout)},
      {.name = "rate-limit-on-error",
       .value_name = "MODE",
       .default_value = "allow",
       .meaning = "the answer while Redis is unavailable or slower than `--redis-timeout`: {values}",
       .sets = store(on_error_words(), &s::proxy, &p::rate_limit, &bb::rate_limit_config::redis,
                     &bb::redis_store_config::on_error)},
      {.name = "trusted-proxy",
       .value_name = "IP",
       .meaning = "a peer IP ({values}) whose `X-Forwarded-For` is believed when finding the client to limit",
       .repeatable = true,
       .sets = append(ip_value{}, &s::proxy, &p::clients, &bb::client_identity_config::trusted_proxies)},
      {.name = "threads",
       .value_name = "N",
       .default_shown = "number of cores",
       .meaning = "worker threads ({values}), each with its own event loop and SO_REUSEPORT listener",
       .sets = store(whole<unsigned>{1, 1024}, &s::threads)},
      {.name = "log-level",
       .value_name = "LEVEL",
       .default_value = "info",
       .meaning = "what is logged: {values}",
       .sets = store(log_level_words(), &s::log_level)},
      {.name = "access-log-format",
       .value_name = "FORMAT",
       .default_value = "text",
       .meaning = "how each request's line (level info) is written: {values}; every line carries the request's "
                  "X-Request-Id",
       .sets = store(access_log_words(), &s::proxy, &p::access_log)},
      {.name = "seed",
       .value_name = "N",
       .default_shown = "drawn at start",
       .meaning = "seed of the balancing random source (a whole number), to replay a run",
       .sets = store(whole<std::uint64_t>{}, &s::seed)},
      {.name = "admin",
       .value_name = "ADDRESS",
       .default_shown = "off",
       .meaning = "serve /metrics (Prometheus), /status (HTML), /status.json, /ready and /live on this address "
                  "({values}), apart "
                  "from the proxy's listener and its limits; see [Observability](#observability)",
       .sets = store(address_value{resolve}, &s::admin)},
      {.name = "help", .short_name = 'h', .meaning = "print the flags and exit 0", .request = true},
      {.name = "help-markdown",
       .meaning = "print the README's flag table, in Markdown, and exit 0",
       .request = true,
       .hidden = true},
  };
}

bb::cli::command_line<settings> parse_cli(const std::vector<std::string>& args, resolve_fn resolve) {
  return bb::cli::parse(flag_table(std::move(resolve)), args);
}

std::string help_text() {
  return bb::cli::help_text(
      "balancebeam: a load-balancing HTTP/1.1 reverse proxy.\n\n"
      "usage: balancebeam -u HOST:PORT [-u HOST:PORT ...] [options]",
      flag_table({}));
}

std::string flag_markdown() { return bb::cli::markdown_table(flag_table({})); }

}  // namespace balancebeam
