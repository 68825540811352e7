#pragma once
/// bb::asio_rt::from_asio, to_asio: endpoints between bb's plain values and Asio's.

#include <asio/ip/tcp.hpp>
#include <bb/core/net.hpp>

#include <cstddef>

namespace bb::asio_rt {

/// Converts between bb::endpoint and Asio's; IPv4-mapped IPv6 peers become IPv4.
inline endpoint from_asio(const ::asio::ip::tcp::endpoint& e) noexcept {
  endpoint r;
  r.port = e.port();
  auto a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ::asio::ip::make_address_v4(::asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    r.ip = ip_address::v4(b[0], b[1], b[2], b[3]);
  } else {
    auto b = a.to_v6().to_bytes();
    r.ip.v6 = true;
    for (std::size_t i = 0; i < 16; ++i) r.ip.bytes[i] = b[i];
  }
  return r;
}

/// The Asio endpoint for `e`.
inline ::asio::ip::tcp::endpoint to_asio(const endpoint& e) noexcept {
  if (!e.ip.v6) {
    return {::asio::ip::address_v4({e.ip.bytes[0], e.ip.bytes[1], e.ip.bytes[2], e.ip.bytes[3]}), e.port};
  }
  ::asio::ip::address_v6::bytes_type b;
  for (std::size_t i = 0; i < 16; ++i) b[i] = e.ip.bytes[i];
  return {::asio::ip::address_v6(b), e.port};
}

}  // namespace bb::asio_rt
