#pragma once
/// balancebeam's status: one snapshot of the workers' counters and the cluster, rendered
/// as /status.json or as /status, a self-contained HTML page in the spirit of HAProxy's
/// stats page (no scripts, styles inline, no fonts fetched; it reloads itself).

#include <bb/health/checker.hpp>
#include <bb/metrics/histogram.hpp>
#include <bb/proxy/shared_state.hpp>
#include <bb/proxy/stats.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace balancebeam {

/// One upstream's row.
struct upstream_status {
  std::string name;
  bool up = true;
  std::uint32_t weight = 1;
  std::int64_t in_flight = 0;
  std::uint64_t responses[6] = {};  ///< by class: [1]=1xx .. [5]=5xx
  std::uint64_t connect_errors = 0, timeouts = 0, retries = 0, state_changes = 0;
  double p50_s = 0, p99_s = 0;  ///< bucket upper bounds of the response latency
  bool checked = false;         ///< active checks ran: the fields below mean something
  std::uint64_t checks_passed = 0, checks_failed = 0;
  double last_check_ago_s = -1;  ///< -1: no check yet
  bool last_check_passed = false;
  double last_check_s = 0;  ///< how long the last check took
  double state_for_s = -1;  ///< time since the checker last changed its state; -1: never
  [[nodiscard]] std::uint64_t requests() const noexcept {
    std::uint64_t n = 0;
    for (int c = 1; c < 6; ++c) n += responses[c];
    return n;
  }
};

/// Everything /status and /status.json show.
struct status_snapshot {
  std::string version;
  double uptime_s = 0;
  bool ready = false;
  bool draining = false;
  std::int64_t client_connections = 0;
  std::uint64_t client_connections_total = 0;
  std::uint64_t responses[6] = {};
  std::uint64_t rate_allowed = 0, rate_limited = 0;
  bool rate_limiting = false;
  double p50_s = 0, p99_s = 0;  ///< client request duration, bucket upper bounds
  std::vector<upstream_status> upstreams;
};

/// Reads the snapshot from `workers` (each with stats(), checks(i)) and `shared`;
/// `now_ns` is the proxy clock's time since its epoch.
template <class Proxy>
status_snapshot take_status(const std::vector<const Proxy*>& workers, const bb::shared_state& shared,
                            const bb::proxy_config& config, std::int64_t now_ns) {
  status_snapshot s;
  bb::metrics::histogram_snapshot client_latency;
  for (const auto* w : workers) {
    const auto& st = w->stats();
    for (int c = 1; c < 6; ++c) s.responses[c] += st.responses[c].value();
    s.client_connections += st.open_connections.value();
    s.client_connections_total += st.connections.value();
    s.rate_allowed += st.rate_allowed.value();
    s.rate_limited += st.rate_limited.value();
    client_latency.add(st.request_duration);
  }
  s.p50_s = client_latency.quantile_bound_s(0.5);
  s.p99_s = client_latency.quantile_bound_s(0.99);
  s.rate_limiting = config.rate_limit.enabled();
  const auto& hosts = shared.upstreams;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    upstream_status u;
    u.name = hosts.at(i).name;
    u.up = hosts.health(i).up.load(std::memory_order_relaxed);
    u.weight = config.upstreams[i].weight;
    u.state_changes = hosts.health(i).changes.load(std::memory_order_relaxed);
    bb::metrics::histogram_snapshot latency;
    for (const auto* w : workers) {
      const auto& x = w->stats().upstream[i];
      for (int c = 1; c < 6; ++c) u.responses[c] += x.responses[c].value();
      u.connect_errors += x.connect_errors.value();
      u.timeouts += x.timeouts.value();
      u.retries += x.retries.value();
      u.in_flight += x.in_flight.value();
      latency.add(x.response_duration);
      if (const bb::check_stats* c = w->checks(i)) {
        u.checked = true;
        u.checks_passed = c->passed.value();
        u.checks_failed = c->failed.value();
        const auto at = c->last_at_ns.load(std::memory_order_relaxed);
        if (at >= 0) {
          u.last_check_ago_s = static_cast<double>(now_ns - at) / 1e9;
          u.last_check_passed = c->last_passed.load(std::memory_order_relaxed);
          u.last_check_s = static_cast<double>(c->last_duration_ns.load(std::memory_order_relaxed)) / 1e9;
        }
        const auto changed = c->changed_at_ns.load(std::memory_order_relaxed);
        if (changed >= 0) u.state_for_s = static_cast<double>(now_ns - changed) / 1e9;
      }
    }
    u.p50_s = latency.quantile_bound_s(0.5);
    u.p99_s = latency.quantile_bound_s(0.99);
    s.upstreams.push_back(std::move(u));
  }
  return s;
}

namespace detail {

inline void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

inline std::string number(double v, const char* format = "%.6g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

inline std::string classes_json(const std::uint64_t (&r)[6]) {
  std::string s = "{";
  for (int c = 1; c < 6; ++c) s += (c > 1 ? ",\"" : "\"") + std::to_string(c) + "xx\":" + std::to_string(r[c]);
  return s + "}";
}

inline void html_text(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
}

inline std::string ms(double s) { return number(s * 1000, "%.1f") + " ms"; }

inline std::string duration_text(double s) {
  if (s < 0) return "-";
  if (s < 120) return number(s, "%.0f") + " s";
  if (s < 7200) return number(s / 60, "%.0f") + " min";
  return number(s / 3600, "%.1f") + " h";
}

}  // namespace detail

/// The snapshot as the /status.json document.
inline std::string status_json(const status_snapshot& s) {
  using detail::number;
  std::string out = "{\"version\":";
  detail::json_string(out, s.version);
  out += ",\"uptime_seconds\":" + number(s.uptime_s, "%.3f");
  out += std::string(",\"ready\":") + (s.ready ? "true" : "false");
  out += std::string(",\"draining\":") + (s.draining ? "true" : "false");
  out += ",\"client_connections\":" + std::to_string(s.client_connections);
  out += ",\"client_connections_total\":" + std::to_string(s.client_connections_total);
  out += ",\"responses\":" + detail::classes_json(s.responses);
  out += ",\"request_duration_p50_seconds\":" + number(s.p50_s);
  out += ",\"request_duration_p99_seconds\":" + number(s.p99_s);
  out += ",\"rate_limit\":{\"enabled\":" + std::string(s.rate_limiting ? "true" : "false") +
         ",\"allowed\":" + std::to_string(s.rate_allowed) + ",\"limited\":" + std::to_string(s.rate_limited) + "}";
  out += ",\"upstreams\":[";
  bool first = true;
  for (const auto& u : s.upstreams) {
    out += first ? "{\"name\":" : ",{\"name\":";
    first = false;
    detail::json_string(out, u.name);
    out += std::string(",\"up\":") + (u.up ? "true" : "false");
    out += ",\"weight\":" + std::to_string(u.weight);
    out += ",\"in_flight\":" + std::to_string(u.in_flight);
    out += ",\"requests\":" + std::to_string(u.requests());
    out += ",\"responses\":" + detail::classes_json(u.responses);
    out += ",\"connect_errors\":" + std::to_string(u.connect_errors);
    out += ",\"timeouts\":" + std::to_string(u.timeouts);
    out += ",\"retries\":" + std::to_string(u.retries);
    out += ",\"state_changes\":" + std::to_string(u.state_changes);
    out += ",\"latency_p50_seconds\":" + number(u.p50_s);
    out += ",\"latency_p99_seconds\":" + number(u.p99_s);
    if (u.checked) {
      out += ",\"checks\":{\"passed\":" + std::to_string(u.checks_passed) +
             ",\"failed\":" + std::to_string(u.checks_failed);
      if (u.last_check_ago_s >= 0)
        out += ",\"last_seconds_ago\":" + number(u.last_check_ago_s, "%.3f") +
               ",\"last_passed\":" + (u.last_check_passed ? "true" : "false") +
               ",\"last_duration_seconds\":" + number(u.last_check_s);
      if (u.state_for_s >= 0) out += ",\"state_for_seconds\":" + number(u.state_for_s, "%.3f");
      out += '}';
    }
    out += '}';
  }
  out += "]}\n";
  return out;
}

/// The snapshot as the /status page: refreshes itself every `refresh_s` seconds.
inline std::string status_html(const status_snapshot& s, int refresh_s = 2) {
  using detail::html_text;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"refresh\" content=\"" +
      std::to_string(refresh_s) +
      "\"><title>balancebeam status</title><style>"
      "body{font-family:system-ui,sans-serif;margin:1em;color:#222}"
      "table{border-collapse:collapse;font-size:14px}th,td{padding:4px 8px;border-bottom:1px solid #ddd;"
      "text-align:right;white-space:nowrap}th{background:#f4f4f4}td.name,th.name{text-align:left}"
      ".scroll{overflow-x:auto}.state{font-weight:bold;color:#fff;border-radius:3px;padding:1px 6px}"
      ".up{background:#2a8f3d}.down{background:#c62828}tr.totals td{font-weight:bold}"
      "dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#666}dd{margin:0}"
      "</style></head><body>\n<h1>balancebeam</h1>\n<dl id=\"summary\">";
  const auto item = [&](std::string_view k, const std::string& v) {
    out += "<dt>";
    out += k;
    out += "</dt><dd>";
    html_text(out, v);
    out += "</dd>";
  };
  item("version", s.version);
  item("uptime", detail::duration_text(s.uptime_s));
  item("ready", s.draining ? "no (draining)" : s.ready ? "yes" : "no (no upstream is up)");
  item("client connections",
       std::to_string(s.client_connections) + " open, " + std::to_string(s.client_connections_total) + " since start");
  item("request latency", "p50 " + detail::ms(s.p50_s) + ", p99 " + detail::ms(s.p99_s));
  item("rate limiting", s.rate_limiting ? std::to_string(s.rate_allowed) + " allowed, " +
                                              std::to_string(s.rate_limited) + " limited (429)"
                                        : "off");
  out +=
      "</dl>\n<div class=\"scroll\"><table id=\"upstreams\"><thead><tr><th class=\"name\">upstream</th><th>state</th>"
      "<th>for</th><th>weight</th><th>in flight</th><th>requests</th><th>2xx</th><th>4xx</th><th>5xx</th>"
      "<th>connect errors</th><th>timeouts</th><th>retries</th><th>last check</th><th>p50</th><th>p99</th></tr>"
      "</thead><tbody>\n";
  upstream_status total;
  for (const auto& u : s.upstreams) {
    out += "<tr class=\"upstream\"><td class=\"name\">";
    html_text(out, u.name);
    out += std::string("</td><td><span class=\"state ") + (u.up ? "up\">UP" : "down\">DOWN") + "</span></td><td>";
    out += detail::duration_text(u.state_for_s);
    out += "</td><td>" + std::to_string(u.weight) + "</td><td>" + std::to_string(u.in_flight) + "</td><td>" +
           std::to_string(u.requests()) + "</td><td>" + std::to_string(u.responses[2]) + "</td><td>" +
           std::to_string(u.responses[4]) + "</td><td>" + std::to_string(u.responses[5]) + "</td><td>" +
           std::to_string(u.connect_errors) + "</td><td>" + std::to_string(u.timeouts) + "</td><td>" +
           std::to_string(u.retries) + "</td><td>";
    if (!u.checked) out += "off";
    else if (u.last_check_ago_s < 0) out += "none yet";
    else
      out += std::string(u.last_check_passed ? "passed" : "failed") + ", " + detail::duration_text(u.last_check_ago_s) +
             " ago, " + detail::ms(u.last_check_s);
    out += "</td><td>" + detail::ms(u.p50_s) + "</td><td>" + detail::ms(u.p99_s) + "</td></tr>\n";
    total.in_flight += u.in_flight;
    for (int c = 1; c < 6; ++c) total.responses[c] += u.responses[c];
    total.connect_errors += u.connect_errors;
    total.timeouts += u.timeouts;
    total.retries += u.retries;
  }
  out += "<tr class=\"totals\"><td class=\"name\">total</td><td></td><td></td><td></td><td>" +
         std::to_string(total.in_flight) + "</td><td>" + std::to_string(total.requests()) + "</td><td>" +
         std::to_string(total.responses[2]) + "</td><td>" + std::to_string(total.responses[4]) + "</td><td>" +
         std::to_string(total.responses[5]) + "</td><td>" + std::to_string(total.connect_errors) + "</td><td>" +
         std::to_string(total.timeouts) + "</td><td>" + std::to_string(total.retries) +
         "</td><td></td><td></td><td></td></tr>\n</tbody></table></div>\n"
         "<p>Upstream requests count response heads received; the proxy's own answers (502, 504, 429) are in "
         "<a href=\"/metrics\">/metrics</a>. Also: <a href=\"/status.json\">/status.json</a>.</p>\n</body></html>\n";
  return out;
}

}  // namespace balancebeam
