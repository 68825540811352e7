#pragma once
/// bb::rng: the project's seeded pseudo-random generator and the distributions it uses.
///
/// Standard library distributions differ between implementations, so a seed would not
/// replay the same run everywhere. xoshiro256** (Blackman & Vigna) seeded through
/// splitmix64 is small, fast and specified bit for bit; the distributions below are
/// written out here for the same reason.

#include <cmath>
#include <cstdint>
#include <limits>

namespace bb {

/// A seeded xoshiro256** generator; it satisfies std::uniform_random_bit_generator.
class rng {
  __extension__ using u128 = unsigned __int128;

public:
  using result_type = std::uint64_t;

  /// The generator for `seed`: the same seed gives the same sequence on every platform.
  explicit rng(std::uint64_t seed = 0) noexcept {
    for (auto& w : s_) w = splitmix64(seed);
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() noexcept {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }

  /// Uniform in [0, n) without modulo bias (Lemire's method); n must be > 0.
  std::uint64_t below(std::uint64_t n) noexcept {
    u128 m = static_cast<u128>((*this)()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = -n % n;
      while (low < threshold) {
        m = static_cast<u128>((*this)()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform01() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  /// Exponentially distributed with the given mean (inverse transform).
  double exponential(double mean) noexcept { return -mean * std::log1p(-uniform01()); }

  /// True with probability p.
  bool chance(double p) noexcept { return uniform01() < p; }

  /// A new generator whose sequence is independent of this one's from here on.
  rng split() noexcept { return rng((*this)()); }

private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4];
};

}  // namespace bb
