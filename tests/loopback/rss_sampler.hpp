#pragma once
// A process's resident memory, sampled on a thread while a test drives it (Linux: VmRSS
// in /proc/<pid>/status).

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace bb_test {

/// The resident set size of process `pid` in bytes; 0 when it cannot be read.
inline std::uint64_t resident_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:  1234 kB"
  return 0;
}

/// The largest resident set size of `pid` seen from construction until stop().
class rss_sampler {
public:
  explicit rss_sampler(pid_t pid, std::chrono::milliseconds every = std::chrono::milliseconds(2))
      : thread_([this, pid, every](std::stop_token stop) {
          while (!stop.stop_requested()) {
            sample(pid);
            std::this_thread::sleep_for(every);
          }
          sample(pid);
        }) {}

  /// Stops sampling (after a last sample) and returns the peak.
  std::uint64_t stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    return peak_.load();
  }
  /// The peak so far.
  [[nodiscard]] std::uint64_t peak() const noexcept { return peak_.load(); }

private:
  void sample(pid_t pid) { peak_.store(std::max(peak_.load(), resident_bytes(pid))); }  // the only writer

  std::atomic<std::uint64_t> peak_{0};
  std::jthread thread_;  // last: it stops before peak_ goes
};

}  // namespace bb_test
