#pragma once
/// balancebeam's admin endpoints: what /metrics, /status.json, /ready and /live answer,
/// read from the workers' counters, the shared cluster and the process (README,
/// "Observability"). Called on the admin listener's thread; reads only atomics.

#include <bb/admin/server.hpp>
#include <bb/metrics/exposition.hpp>
#include <bb/metrics/histogram.hpp>
#include <bb/proxy/exposition.hpp>
#include <bb/proxy/shared_state.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace balancebeam {

/// What the admin endpoints read.
template <class Proxy>
struct admin_view {
  std::vector<const Proxy*> workers;
  const bb::shared_state& shared;
  const bb::proxy_config& config;
  const std::atomic<bool>& draining;  ///< set once a signal asked the proxy to drain
  std::string version;
  double start_time_s;                            ///< Unix time the process started
  std::chrono::steady_clock::time_point started;  ///< for the uptime
};

namespace detail {

// Open descriptors of this process (entries of /proc/self/fd, less the one listing it).
inline std::int64_t open_fds() {
  std::error_code ec;
  std::int64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return ec ? -1 : n - 1;
}

// Resident memory in bytes, from /proc/self/statm.
inline std::int64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long size = 0, resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return got == 2 ? static_cast<std::int64_t>(resident) * sysconf(_SC_PAGESIZE) : -1;
}

inline void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += c;
  }
  out += '"';
}

}  // namespace detail

/// Whether the proxy should get traffic: not draining, and at least one upstream up.
template <class Proxy>
bool ready(const admin_view<Proxy>& v) {
  if (v.draining.load(std::memory_order_relaxed)) return false;
  for (std::size_t i = 0; i < v.shared.upstreams.size(); ++i)
    if (v.shared.upstreams.live(i, {}, false)) return true;
  return false;
}

/// The /metrics text: the proxy's families, then build and process information.
template <class Proxy>
std::string metrics_text(const admin_view<Proxy>& v) {
  std::vector<const bb::proxy_stats*> stats;
  for (const auto* w : v.workers) stats.push_back(&w->stats());
  std::vector<const bb::check_stats*> checks(v.shared.upstreams.size(), nullptr);
  for (const auto* w : v.workers)
    for (std::size_t i = 0; i < checks.size(); ++i)
      if (const auto* c = w->checks(i)) checks[i] = c;
  const bool checking = v.config.health.active();
  std::string out;
  bb::metrics::exposition e(out);
  bb::write_proxy_metrics(e, bb::metrics_sources{
                                 .workers = stats,
                                 .pool = [&](std::size_t w, std::size_t i) -> const bb::pool_counters& {
                                   return v.workers[w]->pool_stats(i);
                                 },
                                 .hosts = v.shared.upstreams,
                                 .checks = checking ? checks.data() : nullptr,
                                 .config = v.config,
                             });
  e.family("balancebeam_build_info", "gauge", "Always 1; the labels say which build runs.");
  e.sample("balancebeam_build_info", {{"version", v.version}}, 1);
  e.family("balancebeam_ready", "gauge", "1 while /ready answers 200.");
  e.sample("balancebeam_ready", {}, ready(v) ? 1 : 0);
  e.family("process_open_fds", "gauge", "Open file descriptors.");
  e.sample_signed("process_open_fds", {}, detail::open_fds());
  e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  e.sample_signed("process_resident_memory_bytes", {}, detail::resident_bytes());
  e.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
  e.sample_real("process_start_time_seconds", {}, v.start_time_s);
  return out;
}

/// The /status.json document: per upstream its state and counts, the totals.
template <class Proxy>
std::string status_json(const admin_view<Proxy>& v) {
  const auto& hosts = v.shared.upstreams;
  std::string out = "{\"version\":";
  detail::json_string(out, v.version);
  const auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - v.started).count();
  out += ",\"uptime_seconds\":" + std::to_string(uptime);
  out += ",\"ready\":" + std::string(ready(v) ? "true" : "false");
  std::uint64_t responses[6] = {}, connections = 0, allowed = 0, limited = 0;
  std::int64_t open = 0;
  for (const auto* w : v.workers) {
    const auto& s = w->stats();
    for (int c = 1; c < 6; ++c) responses[c] += s.responses[c].value();
    connections += s.connections.value();
    open += s.open_connections.value();
    allowed += s.rate_allowed.value();
    limited += s.rate_limited.value();
  }
  const auto classes = [&](const std::uint64_t(&r)[6]) {
    std::string s = "{";
    for (int c = 1; c < 6; ++c) s += (c > 1 ? ",\"" : "\"") + std::to_string(c) + "xx\":" + std::to_string(r[c]);
    return s + "}";
  };
  out += ",\"client_connections\":" + std::to_string(open);
  out += ",\"client_connections_total\":" + std::to_string(connections);
  out += ",\"responses\":" + classes(responses);
  out += ",\"rate_limit\":{\"allowed\":" + std::to_string(allowed) + ",\"limited\":" + std::to_string(limited) + "}";
  out += ",\"upstreams\":[";
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    std::uint64_t r[6] = {}, connect_errors = 0, timeouts = 0, retries = 0;
    std::int64_t in_flight = 0;
    bb::metrics::histogram_snapshot latency;
    for (const auto* w : v.workers) {
      const auto& u = w->stats().upstream[i];
      for (int c = 1; c < 6; ++c) r[c] += u.responses[c].value();
      connect_errors += u.connect_errors.value();
      timeouts += u.timeouts.value();
      retries += u.retries.value();
      in_flight += u.in_flight.value();
      latency.add(u.response_duration);
    }
    out += i ? ",{\"name\":" : "{\"name\":";
    detail::json_string(out, hosts.at(i).name);
    out += ",\"up\":" + std::string(hosts.health(i).up.load(std::memory_order_relaxed) ? "true" : "false");
    out += ",\"weight\":" + std::to_string(v.config.upstreams[i].weight);
    out += ",\"in_flight\":" + std::to_string(in_flight);
    out += ",\"responses\":" + classes(r);
    out += ",\"connect_errors\":" + std::to_string(connect_errors);
    out += ",\"timeouts\":" + std::to_string(timeouts);
    out += ",\"retries\":" + std::to_string(retries);
    out += ",\"state_changes\":" + std::to_string(hosts.health(i).changes.load(std::memory_order_relaxed));
    out += ",\"latency_p50_seconds\":" + std::to_string(latency.quantile_bound_s(0.5));
    out += ",\"latency_p99_seconds\":" + std::to_string(latency.quantile_bound_s(0.99));
    const bb::check_stats* checks = nullptr;
    for (const auto* w : v.workers)
      if (const auto* c = w->checks(i)) checks = c;
    out += ",\"checks_passed\":" + std::to_string(checks ? checks->passed.value() : 0);
    out += ",\"checks_failed\":" + std::to_string(checks ? checks->failed.value() : 0);
    out += '}';
  }
  out += "]}\n";
  return out;
}

/// Answers one admin request.
template <class Proxy>
bb::admin::response route(const admin_view<Proxy>& v, const bb::admin::request& r) {
  const bool known = r.path == "/metrics" || r.path == "/status.json" || r.path == "/ready" || r.path == "/live";
  if (!known) return {404, "text/plain; charset=utf-8", "not found: /metrics, /status.json, /ready, /live\n"};
  if (r.method != "GET" && r.method != "HEAD") return {405, "text/plain; charset=utf-8", "GET or HEAD only\n"};
  if (r.path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text(v)};
  if (r.path == "/status.json") return {200, "application/json", status_json(v)};
  if (r.path == "/live") return {200, "text/plain; charset=utf-8", "live\n"};
  if (ready(v)) return {200, "text/plain; charset=utf-8", "ready\n"};
  return {503, "text/plain; charset=utf-8",
          v.draining.load(std::memory_order_relaxed) ? "draining\n" : "no upstream is up\n"};
}

}  // namespace balancebeam
