#pragma once
/// bb::write_proxy_metrics: the proxy's families in the Prometheus text format, summed
/// over its workers at the moment of the scrape.
///
/// Every value is read from single-writer counters, the cluster's atomics and the
/// configuration, so a scrape from another thread takes no lock and stops no worker; a
/// sum may be a moment behind a worker, never torn. Names follow Prometheus' conventions:
/// base units in the name, `_total` for counters, histograms in seconds. The README's
/// "Observability" section lists them all (a test holds the two in step).

#include <bb/health/checker.hpp>
#include <bb/limit/remote_limiter.hpp>
#include <bb/metrics/exposition.hpp>
#include <bb/metrics/histogram.hpp>
#include <bb/proxy/config.hpp>
#include <bb/proxy/stats.hpp>
#include <bb/upstream/cluster.hpp>
#include <bb/upstream/pool.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace bb {

namespace detail {
inline constexpr std::array<std::string_view, 6> code_classes = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
}  // namespace detail

/// What one scrape reads: each worker's counters and pool counters, the cluster, the
/// active checker's counts (null when checks are off), the configuration.
struct metrics_sources {
  std::span<const proxy_stats* const> workers;
  /// Worker w's pool counters for upstream i.
  std::function<const pool_counters&(std::size_t w, std::size_t i)> pool;
  const cluster& hosts;
  const check_stats* const* checks = nullptr;  ///< checks[i] for upstream i, or null
  const proxy_config& config;
  /// Each worker's Redis limiter counters; empty with the in-memory store.
  std::span<const remote_limiter_counters* const> remote = {};
};

/// Appends every proxy family to `out`.
inline void write_proxy_metrics(metrics::exposition& out, const metrics_sources& src) {
  using metrics::label;
  const auto sum = [&](auto field) {
    std::uint64_t n = 0;
    for (const auto* w : src.workers) n += field(*w).value();
    return n;
  };
  const auto sum_signed = [&](auto field) {
    std::int64_t n = 0;
    for (const auto* w : src.workers) n += field(*w).value();
    return n;
  };

  out.family("balancebeam_client_connections", "gauge", "Client connections being served now.");
  out.sample_signed("balancebeam_client_connections", {},
                    sum_signed([](const proxy_stats& s) -> const metrics::gauge& { return s.open_connections; }));
  out.family("balancebeam_client_connections_total", "counter", "Client connections accepted.");
  out.sample("balancebeam_client_connections_total", {},
             sum([](const proxy_stats& s) -> const metrics::counter& { return s.connections; }));
  out.family("balancebeam_client_connections_refused_total", "counter",
             "Client connections closed at once: over --max-connections.");
  out.sample("balancebeam_client_connections_refused_total", {},
             sum([](const proxy_stats& s) -> const metrics::counter& { return s.refused_connections; }));

  out.family("balancebeam_requests_total", "counter", "Responses sent to clients, by class of status.");
  for (std::size_t c = 1; c < 6; ++c)
    out.sample("balancebeam_requests_total", {{"code_class", detail::code_classes[c]}},
               sum([c](const proxy_stats& s) -> const metrics::counter& { return s.responses[c]; }));

  metrics::histogram_snapshot durations;
  for (const auto* w : src.workers) durations.add(w->request_duration);
  out.family("balancebeam_request_duration_seconds", "histogram",
             "From a request's head to the end of its response, as the client sees it.");
  out.histogram("balancebeam_request_duration_seconds", {}, durations);

  out.family("balancebeam_request_errors_total", "counter",
             "Answers the proxy made itself instead of an upstream's, by reason (429s are rate-limit decisions).");
  for (std::size_t r = 0; r < static_cast<std::size_t>(own_answer::count_); ++r)
    out.sample("balancebeam_request_errors_total", {{"reason", to_string(static_cast<own_answer>(r))}},
               sum([r](const proxy_stats& s) -> const metrics::counter& { return s.own_answers[r]; }));

  out.family("balancebeam_timeouts_total", "counter",
             "Phase deadlines that passed (each one cut or ended its session).");
  out.sample("balancebeam_timeouts_total", {},
             sum([](const proxy_stats& s) -> const metrics::counter& { return s.timeouts; }));

  out.family("balancebeam_rate_limit_decisions_total", "counter", "The rate limiter's decisions.");
  out.sample("balancebeam_rate_limit_decisions_total", {{"decision", "allowed"}},
             sum([](const proxy_stats& s) -> const metrics::counter& { return s.rate_allowed; }));
  out.sample("balancebeam_rate_limit_decisions_total", {{"decision", "limited"}},
             sum([](const proxy_stats& s) -> const metrics::counter& { return s.rate_limited; }));

  if (!src.remote.empty()) {
    const auto rsum = [&](const metrics::counter remote_limiter_counters::*field) {
      std::uint64_t v = 0;
      for (const auto* r : src.remote) v += (r->*field).value();
      return v;
    };
    out.family("balancebeam_rate_limit_store_answers_total", "counter",
               "Where the Redis store's decisions came from: a script in Redis, the local cache of refusals, or "
               "the --rate-limit-on-error policy.");
    out.sample("balancebeam_rate_limit_store_answers_total", {{"source", "redis"}},
               rsum(&remote_limiter_counters::from_redis));
    out.sample("balancebeam_rate_limit_store_answers_total", {{"source", "refusal_cache"}},
               rsum(&remote_limiter_counters::cached));
    out.sample("balancebeam_rate_limit_store_answers_total", {{"source", "on_error"}},
               rsum(&remote_limiter_counters::on_error));
    out.family("balancebeam_rate_limit_redis_events_total", "counter",
               "Calls resent after NOSCRIPT (script_reload) or MOVED/ASK (redirect), and replies that were no "
               "decision (bad_reply).");
    out.sample("balancebeam_rate_limit_redis_events_total", {{"event", "script_reload"}},
               rsum(&remote_limiter_counters::reloads));
    out.sample("balancebeam_rate_limit_redis_events_total", {{"event", "redirect"}},
               rsum(&remote_limiter_counters::redirects));
    out.sample("balancebeam_rate_limit_redis_events_total", {{"event", "bad_reply"}},
               rsum(&remote_limiter_counters::bad_replies));
    metrics::histogram_snapshot rt;
    for (const auto* r : src.remote) rt.add(r->round_trip);
    out.family("balancebeam_rate_limit_redis_round_trip_seconds", "histogram",
               "From a decision's start to the script's answer, redirects included.");
    out.histogram("balancebeam_rate_limit_redis_round_trip_seconds", {}, rt);
  }

  const std::size_t n = src.hosts.size();
  const auto name = [&](std::size_t i) -> std::string_view { return src.hosts.at(i).name; };
  const auto per_upstream = [&](auto field) {
    return [&src, field](std::size_t i) {
      std::uint64_t v = 0;
      for (const auto* w : src.workers) v += field(w->upstream[i]).value();
      return v;
    };
  };

  out.family(
      "balancebeam_upstream_attempts_total", "counter",
      "Attempts to send a request to each upstream (a connect, or a pooled connection taken), retries included.");
  for (std::size_t i = 0; i < n; ++i)
    out.sample("balancebeam_upstream_attempts_total", {{"upstream", name(i)}},
               per_upstream([](const upstream_stats& u) -> const metrics::counter& { return u.attempts; })(i));

  out.family("balancebeam_upstream_requests_total", "counter",
             "Response heads received from each upstream, by class of status.");
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 1; c < 6; ++c)
      out.sample("balancebeam_upstream_requests_total",
                 {{"upstream", name(i)}, {"code_class", detail::code_classes[c]}},
                 per_upstream([c](const upstream_stats& u) -> const metrics::counter& { return u.responses[c]; })(i));

  out.family("balancebeam_upstream_response_duration_seconds", "histogram",
             "From the start of an attempt on the upstream (its connect included) to the response head.");
  for (std::size_t i = 0; i < n; ++i) {
    metrics::histogram_snapshot h;
    for (const auto* w : src.workers) h.add(w->upstream[i].response_duration);
    out.histogram("balancebeam_upstream_response_duration_seconds", {{"upstream", name(i)}}, h);
  }

  out.family("balancebeam_upstream_requests_in_flight", "gauge", "Attempts on the upstream now, connecting included.");
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t v = 0;
    for (const auto* w : src.workers) v += w->upstream[i].in_flight.value();
    out.sample_signed("balancebeam_upstream_requests_in_flight", {{"upstream", name(i)}}, v);
  }

  const auto counter_family = [&](std::string_view family, std::string_view help, auto field) {
    out.family(family, "counter", help);
    for (std::size_t i = 0; i < n; ++i) out.sample(family, {{"upstream", name(i)}}, per_upstream(field)(i));
  };
  counter_family("balancebeam_upstream_connect_errors_total", "Connects to the upstream refused, reset or timed out.",
                 [](const upstream_stats& u) -> const metrics::counter& { return u.connect_errors; });
  counter_family("balancebeam_upstream_timeouts_total",
                 "Attempts the upstream did not answer within --upstream-response-timeout.",
                 [](const upstream_stats& u) -> const metrics::counter& { return u.timeouts; });
  counter_family("balancebeam_upstream_retries_total",
                 "Failed attempts on the upstream that another attempt of the request followed (elsewhere, or fresh).",
                 [](const upstream_stats& u) -> const metrics::counter& { return u.retries; });

  out.family("balancebeam_upstream_up", "gauge", "1 while the proxy sends the upstream requests, 0 while it is down.");
  for (std::size_t i = 0; i < n; ++i)
    out.sample("balancebeam_upstream_up", {{"upstream", name(i)}},
               src.hosts.health(i).up.load(std::memory_order_relaxed) ? 1 : 0);
  out.family("balancebeam_upstream_weight", "gauge", "The upstream's balancing weight.");
  for (std::size_t i = 0; i < n; ++i)
    out.sample("balancebeam_upstream_weight", {{"upstream", name(i)}}, src.config.upstreams[i].weight);
  out.family("balancebeam_upstream_state_changes_total", "counter", "Changes of the upstream's state, up or down.");
  for (std::size_t i = 0; i < n; ++i)
    out.sample("balancebeam_upstream_state_changes_total", {{"upstream", name(i)}},
               src.hosts.health(i).changes.load(std::memory_order_relaxed));

  out.family("balancebeam_health_checks_total", "counter", "Active health checks of the upstream, by result.");
  for (std::size_t i = 0; i < n; ++i) {
    const auto* c = src.checks ? src.checks[i] : nullptr;
    out.sample("balancebeam_health_checks_total", {{"upstream", name(i)}, {"result", "passed"}},
               c ? c->passed.value() : 0);
    out.sample("balancebeam_health_checks_total", {{"upstream", name(i)}, {"result", "failed"}},
               c ? c->failed.value() : 0);
  }
  out.family("balancebeam_health_check_duration_seconds", "histogram", "From an active check's start to its verdict.");
  for (std::size_t i = 0; i < n; ++i) {
    metrics::histogram_snapshot h;
    if (src.checks && src.checks[i]) h.add(src.checks[i]->duration);
    out.histogram("balancebeam_health_check_duration_seconds", {{"upstream", name(i)}}, h);
  }

  out.family("balancebeam_upstream_pool_connections_total", "counter",
             "Idle upstream connections by what happened to them: pooled, reused, or closed (and why).");
  struct event {
    std::string_view name;
    const metrics::counter pool_counters::*field;
  };
  constexpr event events[] = {{"pooled", &pool_counters::pooled},
                              {"reused", &pool_counters::reused},
                              {"closed_unsolicited_bytes", &pool_counters::unsolicited},
                              {"closed_by_upstream", &pool_counters::closed_by_upstream},
                              {"closed_expired", &pool_counters::expired},
                              {"closed_dropped", &pool_counters::dropped}};
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& e : events) {
      std::uint64_t v = 0;
      for (std::size_t w = 0; w < src.workers.size(); ++w) v += (src.pool(w, i).*e.field).value();
      out.sample("balancebeam_upstream_pool_connections_total", {{"upstream", name(i)}, {"event", e.name}}, v);
    }
  out.family("balancebeam_upstream_pool_idle_connections", "gauge",
             "Idle connections to the upstream kept for reuse now, over every worker.");
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t v = 0;
    for (std::size_t w = 0; w < src.workers.size(); ++w) v += src.pool(w, i).idle.value();
    out.sample_signed("balancebeam_upstream_pool_idle_connections", {{"upstream", name(i)}}, v);
  }
}

}  // namespace bb
