#pragma once
/// bb::consistent_hash_balancer: keeps a client on one upstream by hashing its IP address
/// onto a ketama-style ring, with Google's bounded loads (Mirrokni, Thorup, Zadimoghaddam,
/// "Consistent Hashing with Bounded Loads", 2016) so one hot client cannot swamp its host.
///
/// The ring holds 160 points per unit of weight for each host (ketama's and nginx's
/// count), placed by hashing the host's key (its name, e.g. "10.0.0.1:80", so the ring
/// does not change when the upstream list is reordered) with the point's number. A client
/// goes to the first point at or after its hash, walking on past hosts that are dead,
/// tried, or full. Nothing is rebuilt when health changes, so a host that leaves takes
/// only its own clients with it, spread over the others, and gets them back on return.
///
/// A host is full when its in-flight requests reach ceil(c * (m + 1) * w / W): m requests
/// in flight on the eligible hosts, W their total weight, w this host's, c the load factor
/// (1.25 by default, as in the paper and HAProxy's hash-balance-factor 125).
///
/// IPv6 clients are hashed by their /64 (as the rate limiter keys them), and an
/// IPv4-mapped address as the IPv4 client it stands for.
///
/// Thread safety: the ring is immutable after construction; in-flight counts are relaxed
/// atomics, one cache line per host; a pick writes nothing.

#include <bb/core/client_key.hpp>
#include <bb/core/net.hpp>
#include <bb/lb/balancing_policy.hpp>
#include <bb/lb/detail/hosts.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bb {

/// Client-IP affinity on a hash ring, with bounded loads.
class consistent_hash_balancer {
public:
  /// Ring points per unit of host weight.
  static constexpr std::uint32_t points_per_weight = 160;

  /// A ring for hosts with these weights (one per host, each >= 1) and keys (one per host,
  /// or none to use "#0", "#1", ...). `load_factor` is c above: at least 1, or 0 for no
  /// bound. Throws std::invalid_argument on anything else.
  explicit consistent_hash_balancer(std::vector<std::uint32_t> weights, const std::vector<std::string>& host_keys = {},
                                    double load_factor = 1.25)
      : weights_(detail::reduced_weights(std::move(weights))), loads_(weights_.size()), load_factor_(load_factor) {
    if (!(load_factor == 0 || load_factor >= 1))
      throw std::invalid_argument("consistent-hash: the load factor must be >= 1 (or 0 for no bound)");
    if (!host_keys.empty() && host_keys.size() != weights_.size())
      throw std::invalid_argument("consistent-hash: one key per host");
    std::size_t points = 0;
    for (auto w : weights_) points += std::size_t{points_per_weight} * w;
    ring_.reserve(points);
    for (std::size_t i = 0; i < weights_.size(); ++i) {
      const std::uint64_t key = host_keys.empty() ? hash_text("#" + std::to_string(i)) : hash_text(host_keys[i]);
      for (std::uint64_t p = 0; p < std::uint64_t{points_per_weight} * weights_[i]; ++p)
        ring_.push_back({mix(key * 0x9e3779b97f4a7c15 ^ p), static_cast<std::uint32_t>(i)});
    }
    std::sort(ring_.begin(), ring_.end(),
              [](const point& a, const point& b) { return a.hash != b.hash ? a.hash < b.hash : a.host < b.host; });
  }

  /// The host for the context's client, or nullopt when no live, untried host is left.
  std::optional<std::size_t> pick(const pick_context& ctx) const {
    std::int64_t in_flight = 0;
    std::uint64_t weight = 0;
    for (std::size_t i = 0; i < ctx.size(); ++i) {
      if (!ctx.eligible(i)) continue;
      in_flight += std::max<std::int64_t>(loads_.in_flight(i), 0);
      weight += weights_[i];
    }
    if (weight == 0) return std::nullopt;
    const double per_weight = load_factor_ * static_cast<double>(in_flight + 1) / static_cast<double>(weight);
    const std::uint64_t h = client_hash(ctx.client);
    const auto start = static_cast<std::size_t>(
        std::lower_bound(ring_.begin(), ring_.end(), h, [](const point& p, std::uint64_t x) { return p.hash < x; }) -
        ring_.begin());
    // Racing workers can leave every eligible host looking full; the first eligible host on
    // the walk is then the answer, as if there were no bound.
    std::optional<std::size_t> first;
    for (std::size_t k = 0; k < ring_.size(); ++k) {
      const std::size_t i = ring_[(start + k) % ring_.size()].host;
      if (!ctx.eligible(i)) continue;
      if (!first) first = i;
      if (load_factor_ == 0 || static_cast<double>(loads_.in_flight(i)) < std::ceil(per_weight * weights_[i])) return i;
    }
    return first;
  }

  /// Counts a request that was sent to host `i`.
  void on_start(std::size_t i) noexcept { loads_.start(i); }
  /// Counts host `i`'s request as done (latency, outcome and time are not used here).
  void on_finish(std::size_t i, const attempt_result&) noexcept { loads_.finish(i); }

  /// Requests in flight on host `i`.
  [[nodiscard]] std::int64_t in_flight(std::size_t i) const noexcept { return loads_.in_flight(i); }

  /// The 64-bit ring position of a client (keyed as its rate limit is: client_key_of with
  /// the configured IPv6 prefix).
  static std::uint64_t client_hash(const client_key& k) noexcept { return mix(mix(k.hi ^ 0x6a09e667f3bcc909) ^ k.lo); }

private:
  struct point {
    std::uint64_t hash;
    std::uint32_t host;
  };

  /// murmur3's fmix64: a bijection that spreads every input bit over the output.
  static std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccd;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53;
    x ^= x >> 33;
    return x;
  }

  /// FNV-1a over the bytes, then mixed: stable across platforms and runs.
  static std::uint64_t hash_text(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325;
    for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3;
    return mix(h);
  }

  std::vector<std::uint32_t> weights_;
  detail::load_table loads_;
  double load_factor_;
  std::vector<point> ring_;
};

static_assert(balancing_policy<consistent_hash_balancer>);

}  // namespace bb
