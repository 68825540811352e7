#pragma once
/// balancebeam's admin endpoints: what /metrics, /status, /status.json, /ready and /live answer,
/// read from the workers' counters, the shared cluster and the process (README,
/// "Observability"). Called on the admin listener's thread; reads only atomics.

#include <apps/balancebeam/status.hpp>

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
#include <functional>
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
  std::function<std::int64_t()> now_ns;           ///< the proxy clock's time since its epoch
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
  std::vector<const bb::remote_limiter_counters*> remote;
  for (const auto* w : v.workers)
    if (const auto* r = w->remote()) remote.push_back(&r->counters());
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
                                 .remote = remote,
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

/// The status snapshot as of now.
template <class Proxy>
status_snapshot status_of(const admin_view<Proxy>& v) {
  auto s = take_status(v.workers, v.shared, v.config, v.now_ns());
  s.version = v.version;
  s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - v.started).count();
  s.ready = ready(v);
  s.draining = v.draining.load(std::memory_order_relaxed);
  return s;
}

/// Answers one admin request.
template <class Proxy>
bb::admin::response route(const admin_view<Proxy>& v, const bb::admin::request& r) {
  const bool known = r.path == "/metrics" || r.path == "/status" || r.path == "/status.json" || r.path == "/ready" ||
                     r.path == "/live" || r.path == "/";
  if (!known) return {404, "text/plain; charset=utf-8", "not found: /metrics, /status, /status.json, /ready, /live\n"};
  if (r.method != "GET" && r.method != "HEAD") return {405, "text/plain; charset=utf-8", "GET or HEAD only\n"};
  if (r.path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text(v)};
  if (r.path == "/status.json") return {200, "application/json", status_json(status_of(v))};
  if (r.path == "/status" || r.path == "/") return {200, "text/html; charset=utf-8", status_html(status_of(v))};
  if (r.path == "/live") return {200, "text/plain; charset=utf-8", "live\n"};
  if (ready(v)) return {200, "text/plain; charset=utf-8", "ready\n"};
  return {503, "text/plain; charset=utf-8",
          v.draining.load(std::memory_order_relaxed) ? "draining\n" : "no upstream is up\n"};
}

}  // namespace balancebeam
