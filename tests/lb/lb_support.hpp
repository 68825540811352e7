#pragma once
// Helpers shared by the balancing-policy tests.

#include <bb/core/client_key.hpp>
#include <bb/core/random.hpp>
#include <bb/lb/pick_context.hpp>
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
  c.eject(i, std::chrono::nanoseconds{0}, 300s, 300s);
}

/// The client 10.x.y.z for the k-th key.
inline bb::ip_address client(std::uint32_t k) {
  return bb::ip_address::v4(10, static_cast<std::uint8_t>(k >> 16), static_cast<std::uint8_t>(k >> 8),
                            static_cast<std::uint8_t>(k));
}

/// An instant `ns` nanoseconds after the clock's epoch.
inline std::chrono::nanoseconds at(std::int64_t ns) { return std::chrono::nanoseconds(ns); }

/// How an attempt ended: after `latency_ns`, ok or not, at `now_ns`.
inline bb::attempt_result result(std::int64_t latency_ns, bool ok, std::int64_t now_ns) {
  return {at(latency_ns), ok, at(now_ns)};
}

/// The key consistent hashing gives `ip` under the default /64 for IPv6.
inline bb::client_key key(const bb::ip_address& ip) { return bb::client_key_of(ip); }

/// A random source for the policies that draw none (round robin, consistent hash).
inline bb::rng& unused_random() {
  static thread_local bb::rng r(1);
  return r;
}

/// A pick over `c` at `now_ns` with random source `r`, for a client nobody looks at.
inline bb::pick_context ctx(const bb::cluster& c, bb::rng& r, std::int64_t now_ns, bool passive_retry,
                            const bb::tried_set& tried) {
  return {c, r, at(now_ns), passive_retry, tried, {}};
}
/// A pick for the client at `client` (consistent hash), which draws nothing at random.
inline bb::pick_context ctx(const bb::cluster& c, const bb::ip_address& client, std::int64_t now_ns, bool passive_retry,
                            const bb::tried_set& tried) {
  return {c, unused_random(), at(now_ns), passive_retry, tried, key(client)};
}
/// A pick that draws nothing at random (round robin).
inline bb::pick_context ctx(const bb::cluster& c, std::int64_t now_ns, bool passive_retry, const bb::tried_set& tried) {
  return {c, unused_random(), at(now_ns), passive_retry, tried, {}};
}
/// A pick by the balancer for the client at `client`.
inline bb::pick_context ctx(const bb::cluster& c, bb::rng& r, std::int64_t now_ns, bool passive_retry,
                            const bb::tried_set& tried, const bb::ip_address& client) {
  return {c, r, at(now_ns), passive_retry, tried, key(client)};
}

}  // namespace lb_test
