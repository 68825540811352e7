#pragma once
/// bb::logger: levelled one-line log records handed to a sink that the application owns.
///
/// The library formats the line; where it goes, and the timestamp in front of it, are the
/// application's business (the library reads no clock of its own).

#include <charconv>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace bb {

/// Severity of a log record, lowest first.
enum class log_level : std::uint8_t { debug, info, warn, error, off };

/// The lower-case name of `l` ("debug", "info", ...).
constexpr std::string_view to_string(log_level l) noexcept {
  constexpr std::string_view names[] = {"debug", "info", "warn", "error", "off"};
  return names[static_cast<int>(l)];
}

/// Filters records by level and hands each one, as a single line, to a sink.
class logger {
public:
  using sink_type = std::function<void(log_level, std::string_view)>;

  /// A logger that drops everything.
  logger() = default;
  /// A logger that passes records at `min` or above to `sink`.
  logger(log_level min, sink_type sink) : min_(min), sink_(std::move(sink)) {}

  /// True when a record at `l` would be written: check before formatting a costly line.
  [[nodiscard]] bool enabled(log_level l) const noexcept { return l >= min_ && sink_; }

  /// Writes `line` at level `l` when enabled.
  void log(log_level l, std::string_view line) const {
    if (enabled(l)) sink_(l, line);
  }

private:
  log_level min_ = log_level::off;
  sink_type sink_;
};

/// Appends the pieces of a log line without iostreams.
struct line {
  std::string s;
  line& operator<<(std::string_view v) {
    s += v;
    return *this;
  }
  line& operator<<(char c) {
    s += c;
    return *this;
  }
  template <class I>
  requires std::is_integral_v<I> line& operator<<(I v) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, p);
    return *this;
  }
};

}  // namespace bb
