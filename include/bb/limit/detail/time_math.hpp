#pragma once
/// Integer helpers for the limiters: floor division and exact 128-bit products.

#include <cstdint>

namespace bb::detail {

// NOTE: __extension__ keeps -Wpedantic quiet about the GCC/Clang 128-bit type; the
// sliding window needs products of a count (32 bits) and a duration (63 bits) exactly.
__extension__ typedef unsigned __int128 uint128_t;

/// a / b rounded toward negative infinity (b > 0), so windows are aligned before the
/// epoch too.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/// floor(a * b / c) for c > 0, computed without overflow (the result must fit in 64 bits).
constexpr std::uint64_t mul_div(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept {
  const uint128_t product = uint128_t{a} * b;
  // NOTE: a 128-bit division is a library call several times slower than a 64-bit one;
  // most products (counts under 2^27 at a minute's nanoseconds) fit in 64 bits.
  if (product >> 64 == 0) return static_cast<std::uint64_t>(product) / c;
  return static_cast<std::uint64_t>(product / c);
}

}  // namespace bb::detail
