#pragma once
/// bb::balance_config: how a proxy picks an upstream for each request.

#include <bb/lb/balance_policy.hpp>

#include <chrono>

namespace bb {

/// The balancing policy and its parameters; defaults are those of the balancebeam
/// command line.
struct balance_config {
  /// How an upstream is chosen for each request (`--balance`).
  balance_policy policy = balance_policy::random;
  /// peak-ewma: the time constant of its latency average (`--ewma-decay`).
  std::chrono::nanoseconds ewma_decay = std::chrono::seconds(10);
};

}  // namespace bb
