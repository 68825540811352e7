#pragma once
/// bb::metrics::exposition: the Prometheus text exposition format, version 0.0.4.
///
/// `# HELP` and `# TYPE` once per family, then one line per sample: `name{l="v",...} value`.
/// Label values escape backslash, double quote and newline; help text escapes backslash
/// and newline; numbers are written exactly (integers as integers, floats in their
/// shortest round-trip form, `+Inf`). Histograms get cumulative `_bucket{le="..."}` lines
/// ending in `le="+Inf"`, then `_sum` (seconds) and `_count`.

#include <bb/metrics/histogram.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace bb::metrics {

/// One label of a sample.
struct label {
  std::string_view name;
  std::string_view value;
};

/// Appends metric families to a string in the text format.
class exposition {
public:
  /// Writes into `out` (appending).
  explicit exposition(std::string& out) noexcept : out_(out) {}

  /// Starts the family `name` of `type` (counter, gauge, histogram, untyped) with `help`.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    escape(help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// One sample with an integer value.
  void sample(std::string_view name, std::span<const label> labels, std::uint64_t value) {
    head(name, labels, {});
    number(value);
    out_ += '\n';
  }
  void sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value) {
    sample(name, std::span<const label>(labels.begin(), labels.size()), value);
  }
  /// One sample with a signed integer value (a gauge that may dip below zero).
  void sample_signed(std::string_view name, std::span<const label> labels, std::int64_t value) {
    head(name, labels, {});
    if (value < 0) out_ += '-';
    number(value < 0 ? static_cast<std::uint64_t>(-(value + 1)) + 1 : static_cast<std::uint64_t>(value));
    out_ += '\n';
  }
  void sample_signed(std::string_view name, std::initializer_list<label> labels, std::int64_t value) {
    sample_signed(name, std::span<const label>(labels.begin(), labels.size()), value);
  }
  /// One sample with a floating-point value.
  void sample_real(std::string_view name, std::span<const label> labels, double value) {
    head(name, labels, {});
    real(value);
    out_ += '\n';
  }
  void sample_real(std::string_view name, std::initializer_list<label> labels, double value) {
    sample_real(name, std::span<const label>(labels.begin(), labels.size()), value);
  }

  /// The lines of one histogram series: cumulative buckets, `_sum` in seconds, `_count`.
  void histogram(std::string_view name, std::span<const label> labels, const histogram_snapshot& h) {
    std::string bucket(name);
    bucket += "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < histogram::buckets; ++i) {
      cumulative += h.counts[i];
      char le[32];
      std::string_view le_text = "+Inf";
      if (i < latency_bounds_s.size()) {
        const auto r = std::to_chars(le, le + sizeof le, latency_bounds_s[i], std::chars_format::fixed);
        le_text = std::string_view(le, static_cast<std::size_t>(r.ptr - le));
      }
      head(bucket, labels, label{"le", le_text});
      number(cumulative);
      out_ += '\n';
    }
    head(std::string(name) + "_sum", labels, {});
    real(static_cast<double>(h.sum_ns) / 1e9);
    out_ += '\n';
    head(std::string(name) + "_count", labels, {});
    number(cumulative);
    out_ += '\n';
  }
  void histogram(std::string_view name, std::initializer_list<label> labels, const histogram_snapshot& h) {
    histogram(name, std::span<const label>(labels.begin(), labels.size()), h);
  }

private:
  void head(std::string_view name, std::span<const label> labels, label extra) {
    out_ += name;
    if (!labels.empty() || !extra.name.empty()) {
      out_ += '{';
      bool first = true;
      auto one = [&](const label& l) {
        if (!first) out_ += ',';
        first = false;
        out_ += l.name;
        out_ += "=\"";
        escape(l.value, true);
        out_ += '"';
      };
      for (const auto& l : labels) one(l);
      if (!extra.name.empty()) one(extra);
      out_ += '}';
    }
    out_ += ' ';
  }

  void escape(std::string_view s, bool quotes) {
    for (char c : s) {
      if (c == '\\') out_ += "\\\\";
      else if (c == '\n') out_ += "\\n";
      else if (c == '"' && quotes) out_ += "\\\"";
      else out_ += c;
    }
  }

  void number(std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }

  void real(double v) {
    if (std::isnan(v)) {
      out_ += "NaN";
    } else if (std::isinf(v)) {
      out_ += v > 0 ? "+Inf" : "-Inf";
    } else {
      char buf[32];
      const auto r = std::to_chars(buf, buf + sizeof buf, v);
      out_.append(buf, r.ptr);
    }
  }

  std::string& out_;
};

}  // namespace bb::metrics
