#pragma once
/// balancebeam::asio_resolve: the resolver main() hands the flag parser, Asio's.

#include <apps/balancebeam/values.hpp>

#include <bb/asio/runtime.hpp>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <string>

namespace balancebeam {

/// Resolves `host` for `port` once, blocking, preferring IPv4 (the family "localhost" users
/// mean); the resolver's error when it finds nothing.
inline bb::result<bb::endpoint> asio_resolve(const std::string& host, std::uint16_t port) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return ec;
  if (results.empty()) return std::error_code(asio::error::host_not_found);
  for (const auto& r : results)
    if (r.endpoint().address().is_v4()) return bb::asio_rt::from_asio(r.endpoint());
  return bb::asio_rt::from_asio(results.begin()->endpoint());
}

}  // namespace balancebeam
