#pragma once
/// bb::random_balancer: picks an upstream uniformly at random (the original balancebeam's
/// policy); the random source is injected so simulated runs replay.

#include <bb/core/random.hpp>
#include <bb/upstream/cluster.hpp>

#include <cstddef>

namespace bb {

/// Uniform choice among the cluster's hosts.
class random_balancer {
public:
  /// The index of the host to send the next request to; the cluster must not be empty.
  std::size_t pick(const cluster& c, rng& r) const noexcept { return static_cast<std::size_t>(r.below(c.size())); }
};

}  // namespace bb
