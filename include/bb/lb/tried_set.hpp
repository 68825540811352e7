#pragma once
/// bb::tried_set: the hosts one request has already been tried on, so a retry goes elsewhere.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bb {

/// A bit per host, cleared for each request.
class tried_set {
public:
  explicit tried_set(std::size_t n) : bits_((n + 63) / 64) {}
  void add(std::size_t i) noexcept { bits_[i / 64] |= std::uint64_t{1} << (i % 64); }
  [[nodiscard]] bool contains(std::size_t i) const noexcept { return bits_[i / 64] >> (i % 64) & 1; }

private:
  std::vector<std::uint64_t> bits_;
};

}  // namespace bb
