#pragma once
// The table both rate-limit stores are held to for GCRA: redis-cell's own test vector
// (../shared/reference/gcra.md). The in-memory gcra answers it in tests/limit/gcra_test.cpp;
// the Redis script, with the times fed in, in tests/loopback/redis_script_test.cpp.

#include <cstdint>

namespace bb_test {

// redis-cell's own test vector (gcra.md): max_burst 4, 1 per second, one key. Times are
// offsets from the first call; durations are exact before rounding.
struct vector_row {
  std::int64_t at_ms;
  std::uint32_t quantity;
  bool limited;
  std::uint32_t remaining;
  std::int64_t reset_after_ms;
  std::int64_t retry_after_ms;  // -1: none
  std::int64_t reset_s;         // as reported, whole seconds rounded up
  std::int64_t retry_s;
};

inline constexpr vector_row redis_cell_vector[] = {
    {0, 6, true, 5, 0, -1, 0, -1},        {0, 1, false, 4, 1000, -1, 1, -1},    {0, 1, false, 3, 2000, -1, 2, -1},
    {0, 1, false, 2, 3000, -1, 3, -1},    {0, 1, false, 1, 4000, -1, 4, -1},    {0, 1, false, 0, 5000, -1, 5, -1},
    {0, 1, true, 0, 5000, 1000, 5, 1},    {3000, 1, false, 2, 3000, -1, 3, -1}, {3100, 1, false, 1, 3900, -1, 4, -1},
    {4000, 1, false, 1, 4000, -1, 4, -1}, {8000, 1, false, 4, 1000, -1, 1, -1}, {9500, 1, false, 4, 1000, -1, 1, -1},
    {9500, 0, false, 4, 1000, -1, 1, -1}, {9500, 2, false, 2, 3000, -1, 3, -1}, {9500, 5, true, 2, 3000, 3000, 3, 3},
};

}  // namespace bb_test
