#pragma once
/// bb::pick_context and bb::attempt_result: what a balancing policy is told, when it picks
/// a host for an attempt and when that attempt ends.

#include <bb/core/client_key.hpp>
#include <bb/core/random.hpp>
#include <bb/lb/tried_set.hpp>
#include <bb/upstream/cluster.hpp>

#include <chrono>
#include <cstddef>

namespace bb {

/// One pick: the cluster's health as of `now`, the hosts this request was already tried
/// on, a random source, and the client (keyed as its rate limit is).
struct pick_context {
  const cluster& hosts;
  rng& random;
  /// The time on the proxy's clock, as nanoseconds since its epoch.
  std::chrono::nanoseconds now{0};
  /// Dead hosts whose passive backoff has run out count as live (active checks are off).
  bool passive_retry = false;
  const tried_set& tried;
  /// The client the request comes from (consistent-hash hashes it; the others ignore it).
  client_key client{};

  /// Hosts in the cluster.
  [[nodiscard]] std::size_t size() const noexcept { return hosts.size(); }
  /// Whether host `i` may take this attempt: live and not tried for this request yet.
  [[nodiscard]] bool eligible(std::size_t i) const noexcept {
    return !tried.contains(i) && hosts.live(i, now, passive_retry);
  }
};

/// How an attempt on a host ended, as a policy learns it.
struct attempt_result {
  /// From sending the request to the end of the response head, or to the failure.
  std::chrono::nanoseconds latency{0};
  /// False for a connect error, a timeout, a reset or a 5xx.
  bool ok = true;
  /// When the attempt ended (the proxy's clock, since its epoch).
  std::chrono::nanoseconds now{0};
};

}  // namespace bb
