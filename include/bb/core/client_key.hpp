#pragma once
/// bb::client_key: the identity of a client, as both the rate limiter (its limit is kept
/// under it) and consistent hashing (it is hashed onto the ring) see it.
///
/// An IPv4 client is its address. An IPv6 client is its /64 by default: a host is
/// usually handed a whole /64, so keying by the full address would let it mint fresh
/// identities at will. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack
/// socket reports for an IPv4 peer) is the IPv4 client it stands for.

#include <bb/core/net.hpp>

#include <cstdint>
#include <vector>

namespace bb {

/// 128 bits in the IPv6 layout; IPv4 clients take their IPv4-mapped form, which no
/// other key can take (an IPv6 address with that prefix is mapped to IPv4 first).
struct client_key {
  std::uint64_t hi = 0;  ///< the first 64 bits, most significant first
  std::uint64_t lo = 0;  ///< the last 64 bits

  friend bool operator==(const client_key&, const client_key&) = default;
};

/// The key for a client at `ip`: IPv4 as is, IPv6 cut to its first `ipv6_prefix` bits
/// (clamped to 128; 0 puts every IPv6 client under one key).
inline client_key client_key_of(const ip_address& ip, unsigned ipv6_prefix = 64) noexcept {
  auto word = [&](int from) {
    std::uint64_t w = 0;
    for (int i = from; i < from + 8; ++i) w = w << 8 | ip.bytes[i];
    return w;
  };
  constexpr std::uint64_t mapped = 0x0000'ffff'0000'0000;
  if (!ip.v6) { return {0, mapped | (word(0) >> 32)}; }
  client_key k{word(0), word(8)};
  if (k.hi == 0 && (k.lo >> 32) == 0xffff) return k;  // ::ffff:a.b.c.d is the IPv4 client
  if (ipv6_prefix >= 128) return k;
  if (ipv6_prefix <= 64) {
    k.lo = 0;
    k.hi = ipv6_prefix == 0 ? 0 : k.hi & ~std::uint64_t{0} << (64 - ipv6_prefix);
  } else {
    k.lo &= ~std::uint64_t{0} << (128 - ipv6_prefix);
  }
  return k;
}

/// Who a request's client is: the peer, or, when the peer is a trusted proxy, the address
/// its X-Forwarded-For names (http/forwarded_for.hpp); and how IPv6 clients are keyed.
struct client_identity_config {
  /// Peers whose X-Forwarded-For is believed (`--trusted-proxy`).
  std::vector<ip_address> trusted_proxies;
  /// IPv6 clients are keyed by this prefix of their address (a host usually owns a /64).
  unsigned ipv6_prefix = 64;
};

}  // namespace bb
