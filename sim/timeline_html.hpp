#pragma once
/// bb::sim::write_timeline_html: a recorded timeline as one self-contained HTML page (inline
/// SVG and CSS, no script, no external resource), so a run can be looked at in any browser.
///
/// Top to bottom on one time axis: per upstream a band (its health as the proxy's cluster
/// saw it above, its fault state below), the client outcomes per bucket stacked by kind,
/// the 429s alone, the p50 and p99 client latency per bucket on a log scale, and every fault
/// as a marker on its band (with a line across all of them while there are at most 100). Elements carry classes (band,
/// bar, bar429, lat p50/p99, fault-marker) and the header the seed (#seed), so a test can count what was drawn.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <sim/timeline.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

/// What the page's header says about the run: its title, seed and every parameter.
struct timeline_header {
  std::string title;
  std::uint64_t seed = 0;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::string command;  ///< the command line that replays the run (may be empty)
};

namespace detail {

inline std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

template <typename... Args>
std::string format(const char* f, Args... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

inline double seconds(duration d) { return static_cast<double>(d.count()) / 1e9; }

inline constexpr const char* kind_colour[timeline_kind_count] = {"#4caf50", "#ffb300", "#8e24aa", "#e53935",
                                                                 "#b71c1c", "#ff7043", "#37474f", "#90a4ae"};

inline const char* fault_colour(upstream_state s) {
  switch (s) {
    case crashed: return "#212121";
    case partitioned: return "#6a1b9a";
    case hanging: return "#795548";
    case answering_500: return "#e53935";
    case slow: return "#fb8c00";
    case misbehaving: return "#fdd835";
    default: return "#ffffff";
  }
}

/// The fault that matters most among `bits`, or 0.
inline upstream_state worst_fault(std::uint8_t bits) {
  for (auto s : fault_states)
    if (bits & s) return s;
  return static_cast<upstream_state>(0);
}

}  // namespace detail

/// Writes timeline `t` of the run `h` describes to `out` as one HTML page.
inline void write_timeline_html(std::ostream& out, const timeline& t, const timeline_header& h) {
  using detail::format;
  using detail::html_escape;
  using detail::seconds;
  const std::size_t n = t.upstreams().size(), nb = t.buckets();
  const double end_s = std::max(seconds(t.end()), 1e-3), width_s = seconds(t.width());
  constexpr double left = 130, plot = 1040, total_w = left + plot + 20;
  constexpr double band_h = 28, health_h = 15, panel_h = 120, small_h = 40, gap = 24;
  auto x = [&](double s) { return left + plot * std::min(s, end_s) / end_s; };
  const double bw = plot * width_s / end_s;

  const double bands_top = 22, outcomes_top = bands_top + static_cast<double>(n) * band_h + gap,
               limited_top = outcomes_top + panel_h + gap, latency_top = limited_top + small_h + gap,
               axis_y = latency_top + panel_h, total_h = axis_y + 40;

  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" << html_escape(h.title)
      << " seed " << h.seed << "</title>\n<style>\n"
      << "body{font-family:sans-serif;margin:12px;color:#222;background:#fff}\n"
         "h1{font-size:18px;margin:0 0 4px}.params{font-size:12px;margin:4px 0 6px;line-height:1.5}\n"
         ".param{margin-right:14px;white-space:nowrap}.param i{color:#777;font-style:normal}\n"
         "code{font-size:12px}svg text{font-size:11px;fill:#333}.panel-title{font-weight:bold}\n"
         ".grid{stroke:#ddd;stroke-width:1}.lat{fill:none;stroke-width:1.5}.p50{stroke:#1e88e5}"
         ".p99{stroke:#d81b60}\n"
         ".fault-marker line{stroke-width:1;stroke-dasharray:3,2;opacity:.8}.legend rect{stroke:#999;stroke-width:.5}\n"
      << "</style></head><body>\n";
  out << "<h1>sim timeline: " << html_escape(h.title) << "</h1>\n<div>seed <b><span id=\"seed\">" << h.seed
      << "</span></b>; " << format("%.3f", end_s) << " virtual s; buckets of " << format("%.0f", width_s * 1000)
      << " ms; " << n << " upstreams</div>\n";
  if (!h.command.empty()) out << "<div>replay: <code>" << html_escape(h.command) << "</code></div>\n";
  // Parameters flow as one paragraph, so the chart stays in view.
  out << "<div class=\"params\">\n";
  for (const auto& [k, v] : h.parameters)
    out << "<span class=\"param\"><i>" << html_escape(k) << "</i> " << html_escape(v) << "</span>\n";
  std::uint64_t totals[timeline_kind_count] = {};
  for (std::size_t b = 0; b < nb; ++b)
    for (std::size_t k = 0; k < timeline_kind_count; ++k) totals[k] += t.count(b, static_cast<timeline_kind>(k));
  out << "<span class=\"param\"><i>outcomes</i> ";
  for (std::size_t k = 0; k < timeline_kind_count; ++k)
    out << (k ? ", " : "") << to_string(static_cast<timeline_kind>(k)) << " " << totals[k];
  out << "</span>\n";
  if (t.dropped_markers())
    out << "<span class=\"param\"><i>faults not drawn</i> " << t.dropped_markers() << "</span>\n";
  out << "</div>\n";

  out << format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "data-upstreams=\"%zu\" data-buckets=\"%zu\">\n",
      total_w, total_h, total_w, total_h, n, nb);
  out << "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";

  // Time grid and axis: about ten ticks at a round step.
  const double raw = end_s / 10, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
  out << "<g class=\"axis\">\n";
  for (double s = 0; s <= end_s + 1e-9; s += step) {
    out << format("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x(s), bands_top, x(s),
                  axis_y)
        << format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g s</text>\n", x(s), axis_y + 14, s);
  }
  out << "</g>\n";

  // Upstream bands: runs of buckets with the same class become one rect.
  auto runs = [&](auto classify, auto draw) {
    std::size_t from = 0;
    for (std::size_t b = 1; b <= nb; ++b)
      if (b == nb || classify(b) != classify(from)) draw(from, b, classify(from)), from = b;
  };
  out << format("<text class=\"panel-title\" x=\"4\" y=\"%.1f\">upstreams</text>\n", bands_top - 10);
  for (std::size_t i = 0; i < n; ++i) {
    const double y = bands_top + static_cast<double>(i) * band_h;
    out << "<g class=\"band\" data-upstream=\"" << html_escape(t.upstreams()[i]) << "\">"
        << format("<text x=\"4\" y=\"%.1f\">%s</text>\n", y + 12, html_escape(t.upstreams()[i]).c_str());
    runs(
        [&](std::size_t b) -> std::string_view {
          const auto s = t.state(b, i);
          return (s & seen_down) ? "down" : (s & seen_up) ? "up" : "unknown";
        },
        [&](std::size_t a, std::size_t b, std::string_view c) {
          const char* fill = c == "down" ? "#e53935" : c == "up" ? "#66bb6a" : "#e0e0e0";
          out << format(
              "<rect class=\"seg health %s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
              "fill=\"%s\"><title>%s %s %.1f-%.1f s</title></rect>\n",
              std::string(c).c_str(), x(static_cast<double>(a) * width_s), y,
              x(static_cast<double>(b) * width_s) - x(static_cast<double>(a) * width_s), health_h, fill,
              html_escape(t.upstreams()[i]).c_str(), std::string(c).c_str(), static_cast<double>(a) * width_s,
              static_cast<double>(b) * width_s);
        });
    runs([&](std::size_t b) { return detail::worst_fault(t.state(b, i)); },
         [&](std::size_t a, std::size_t b, upstream_state f) {
           if (!f) return;
           out << format(
               "<rect class=\"seg fault %s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
               "fill=\"%s\"><title>%s %s %.1f-%.1f s</title></rect>\n",
               std::string(to_string(f)).c_str(), x(static_cast<double>(a) * width_s), y + health_h + 1,
               x(static_cast<double>(b) * width_s) - x(static_cast<double>(a) * width_s), band_h - health_h - 6,
               detail::fault_colour(f), html_escape(t.upstreams()[i]).c_str(), std::string(to_string(f)).c_str(),
               static_cast<double>(a) * width_s, static_cast<double>(b) * width_s);
         });
    out << "</g>\n";
  }

  // Outcomes per bucket, stacked by kind, on a linear scale.
  std::uint64_t most = 1, most_429 = 1;
  for (std::size_t b = 0; b < nb; ++b) {
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < timeline_kind_count; ++k) sum += t.count(b, static_cast<timeline_kind>(k));
    most = std::max(most, sum);
    most_429 = std::max<std::uint64_t>(most_429, t.count(b, timeline_kind::too_many));
  }
  out << format("<text class=\"panel-title\" x=\"%.1f\" y=\"%.1f\">outcomes per %.0f ms, by kind</text>", left,
                outcomes_top - 6, width_s * 1000)
      << format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%llu</text>", left - 4, outcomes_top + 10,
                static_cast<unsigned long long>(most))
      << format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n", left - 4, outcomes_top + panel_h);
  out << "<g class=\"outcomes\">\n";
  for (std::size_t b = 0; b < nb; ++b) {
    double y = outcomes_top + panel_h;
    for (std::size_t k = 0; k < timeline_kind_count; ++k) {
      const auto c = t.count(b, static_cast<timeline_kind>(k));
      if (!c) continue;
      const double hgt = panel_h * static_cast<double>(c) / static_cast<double>(most);
      y -= hgt;
      out << format("<rect class=\"bar k%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                    std::string(to_string(static_cast<timeline_kind>(k))).c_str(), x(static_cast<double>(b) * width_s),
                    y, std::max(bw, 0.5), hgt, detail::kind_colour[k]);
    }
    out << "\n";
  }
  out << "</g>\n";

  // 429s alone, so a few of them show beside thousands of 2xx.
  out << format("<text class=\"panel-title\" x=\"%.1f\" y=\"%.1f\">429 per %.0f ms</text>", left, limited_top - 6,
                width_s * 1000)
      << format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%llu</text>", left - 4, limited_top + 10,
                static_cast<unsigned long long>(most_429))
      << format("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, limited_top + small_h,
                left + plot, limited_top + small_h);
  out << "<g class=\"limited\">\n";
  for (std::size_t b = 0; b < nb; ++b) {
    const auto c = t.count(b, timeline_kind::too_many);
    if (!c) continue;
    const double hgt = small_h * static_cast<double>(c) / static_cast<double>(most_429);
    out << format("<rect class=\"bar429\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                  x(static_cast<double>(b) * width_s), limited_top + small_h - hgt, std::max(bw, 0.5), hgt,
                  detail::kind_colour[static_cast<int>(timeline_kind::too_many)]);
  }
  out << "</g>\n";

  // Latency p50 and p99 per bucket on a log scale, from 100 µs to the decade above the worst.
  double worst = 1e-3;
  for (std::size_t b = 0; b < nb; ++b)
    if (t.latency(b).count()) worst = std::max(worst, seconds(t.latency(b).quantile(0.99)));
  const double lo = -4, hi = std::ceil(std::log10(worst) + 1e-9);
  auto ly = [&](double s) {
    const double l = std::clamp(std::log10(std::max(s, 1e-6)), lo, hi);
    return latency_top + panel_h * (hi - l) / (hi - lo);
  };
  out << format("<text class=\"panel-title\" x=\"%.1f\" y=\"%.1f\">client latency p50, p99 per %.0f ms</text>\n", left,
                latency_top - 6, width_s * 1000);
  for (double d = lo; d <= hi; d += 1) {
    const double s = std::pow(10.0, d);
    out << format("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", left, ly(s), left + plot,
                  ly(s))
        << format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g ms</text>\n", left - 4, ly(s) + 4, s * 1000);
  }
  for (const auto& [q, name] : {std::pair{0.5, "p50"}, std::pair{0.99, "p99"}}) {
    std::string d;
    bool pen = false;
    for (std::size_t b = 0; b < nb; ++b) {
      if (!t.latency(b).count()) {
        pen = false;
        continue;
      }
      d += format("%c%.1f,%.1f ", pen ? 'L' : 'M', x((static_cast<double>(b) + 0.5) * width_s),
                  ly(seconds(t.latency(b).quantile(q))));
      pen = true;
    }
    out << "<path class=\"lat " << name << "\" d=\"" << (d.empty() ? "M0,0" : d) << "\"/>\n";
  }

  // Faults: a triangle on the upstream's band, and while they are few enough to tell apart
  // (100), a dashed line across everything.
  const bool lines = t.markers().size() <= 100;
  out << "<g class=\"faults\">\n";
  for (const auto& m : t.markers()) {
    const double mx = x(seconds(m.at));
    const char* colour = m.what == "restart"      ? "#2e7d32"
                         : m.what == "crash"      ? "#212121"
                         : m.what == "answer_500" ? "#e53935"
                         : m.what == "slow_down"  ? "#fb8c00"
                                                  : "#6a1b9a";
    const double my = bands_top + static_cast<double>(m.upstream) * band_h;
    out << "<g class=\"fault-marker\" data-fault=\"" << html_escape(m.what) << "\"><title>"
        << html_escape(t.upstreams()[m.upstream]) << " " << html_escape(m.what) << " at "
        << format("%.3f", seconds(m.at)) << " s</title>"
        << (lines ? format("<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"%s\"/>", mx, bands_top - 6,
                           mx, axis_y, colour)
                  : std::string())
        << format("<path d=\"M%.2f,%.1f l-4,-7 h8 z\" fill=\"%s\"/>", mx, my + 1, colour) << "</g>\n";
  }
  out << "</g>\n</svg>\n";

  // Legend (HTML, under the chart).
  auto swatch = [&](const char* colour, std::string_view label) {
    out << "<span style=\"display:inline-block;margin-right:12px\"><span style=\"display:inline-block;width:10px;"
           "height:10px;background:"
        << colour << ";border:1px solid #999;margin-right:4px\"></span>" << html_escape(label) << "</span>";
  };
  out << "<div class=\"legend\" style=\"font-size:12px;margin-top:4px\">health: ";
  swatch("#66bb6a", "up");
  swatch("#e53935", "down");
  swatch("#e0e0e0", "unknown (no proxy)");
  out << " fault: ";
  for (auto s : fault_states) swatch(detail::fault_colour(s), to_string(s));
  out << "<br>outcomes: ";
  for (std::size_t k = 0; k < timeline_kind_count; ++k)
    swatch(detail::kind_colour[k], to_string(static_cast<timeline_kind>(k)));
  out << " latency: ";
  swatch("#1e88e5", "p50");
  swatch("#d81b60", "p99");
  out << "</div>\n</body></html>\n";
}

}  // namespace bb::sim
