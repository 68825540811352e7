#pragma once
// How many seeds a simulator sweep runs in this build: all of them in the plain build, a
// few under AddressSanitizer (scripts/test's asan stage), where a simulated run takes about
// ten times as long. The sanitizer looks for memory errors on the code paths, which the first
// seeds already take; the plain stage runs every seed for the invariants. Test names give
// the plain build's counts.

#include <cstdint>

namespace bb::sim::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

/// `plain` seeds in a plain build, `under_sanitizer` under AddressSanitizer.
constexpr std::uint64_t seeds(std::uint64_t plain, std::uint64_t under_sanitizer) {
  return sanitized ? under_sanitizer : plain;
}

}  // namespace bb::sim::testing
