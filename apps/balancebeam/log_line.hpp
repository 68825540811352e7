#pragma once
/// balancebeam::write_log_line: the logger's sink, timestamped lines on stderr.

#include <bb/core/log.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace balancebeam {

/// Writes "2024-01-02T03:04:05.678Z info text\n" to stderr in one write(2), so lines from
/// several workers never interleave. A JSON access line (text starting with `{`, see
/// bb/proxy/access_log.hpp) becomes `{"time":"2024-...Z","level":"info",...}` instead.
inline void write_log_line(bb::log_level level, std::string_view text) {
  char stamp[32];
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  std::string line;
  if (!text.empty() && text.front() == '{') {
    line.append("{\"time\":\"").append(stamp, n).append(frac).append("\",\"level\":\"");
    line.append(to_string(level)).append("\",").append(text.substr(1));
  } else {
    line.append(stamp, n).append(frac).append(" ").append(to_string(level)).append(" ").append(text);
  }
  line += '\n';
  [[maybe_unused]] auto w = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace balancebeam
