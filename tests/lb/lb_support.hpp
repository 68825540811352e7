#pragma once
// Helpers shared by the balancing-policy tests.

#include <bb/lb/tried_set.hpp>
#include <bb/upstream/cluster.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace lb_test {

/// A cluster of `n` hosts 10.0.0.1:80, 10.0.0.2:80, ..., all up.
inline bb::cluster make_cluster(std::size_t n) {
  std::vector<bb::upstream_config> u;
  for (std::size_t i = 0; i < n; ++i) {
    auto ep = *bb::endpoint::parse("10.0.0." + std::to_string(i + 1) + ":80");
    u.push_back({ep.to_string(), ep});
  }
  return bb::cluster(u);
}

/// Marks host `i` dead for a long while (active checks on, so it stays dead).
inline void kill(bb::cluster& c, std::size_t i) {
  using namespace std::chrono_literals;
  c.eject(i, 0, 300s, 300s);
}

/// The client 10.x.y.z for the k-th key.
inline bb::ip_address client(std::uint32_t k) {
  return bb::ip_address::v4(10, static_cast<std::uint8_t>(k >> 16), static_cast<std::uint8_t>(k >> 8),
                            static_cast<std::uint8_t>(k));
}

}  // namespace lb_test
