#pragma once
// Who a request comes from when proxies stand between the client and balancebeam: the
// right-most X-Forwarded-For address that is not a proxy the operator trusts.

#include "bb/core/net.hpp"
#include "bb/http/message.hpp"

#include <algorithm>
#include <span>
#include <string_view>

namespace bb::http {

/// The client of a request that came from `peer` with `headers`: `peer` itself unless it is
/// one of `trusted`; then the right-most X-Forwarded-For address (the last field's last
/// element first) that is not trusted itself. A chain that holds something other than an
/// address stops the walk at the last address known: a client cannot hide behind garbage.
inline ip_address client_address(const ip_address& peer, const header_list& headers,
                                 std::span<const ip_address> trusted) {
  auto is_trusted = [&](const ip_address& a) { return std::find(trusted.begin(), trusted.end(), a) != trusted.end(); };
  if (trusted.empty() || !is_trusted(peer)) return peer;
  ip_address who = peer;
  for (auto h = headers.rbegin(); h != headers.rend(); ++h) {
    if (!iequals(h->name, "X-Forwarded-For")) continue;
    std::string_view list = h->value;
    while (!list.empty()) {
      const auto comma = list.rfind(',');
      const auto item = detail::trim_ows(comma == std::string_view::npos ? list : list.substr(comma + 1));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
      const auto a = ip_address::parse(item);
      if (!a) return who;
      who = *a;
      if (!is_trusted(who)) return who;
    }
  }
  return who;
}

}  // namespace bb::http
