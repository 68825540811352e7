#pragma once
// A process's open file descriptors (Linux: the entries of /proc/<pid>/fd), for tests that
// check a fault leaves nothing open behind it.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>

namespace bb_test {

/// How many descriptors process `pid` has open; 0 when that cannot be read.
inline std::size_t open_fds(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return ec ? 0 : n;
}

/// Polls until `pid` has `expected` descriptors open or `within` has passed; the last count.
// Closing is asynchronous (a peer's FIN, a sweep tick), so a fixed sleep would be either
// flaky or slow.
inline std::size_t fds_settle_to(pid_t pid, std::size_t expected,
                                 std::chrono::milliseconds within = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    const auto n = open_fds(pid);
    if (n == expected || std::chrono::steady_clock::now() >= deadline) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace bb_test
