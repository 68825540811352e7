#pragma once
/// bb::redis::url: where a Redis store is, as `--rate-limit-store` names it:
/// `redis://[:PASSWORD@]HOST:PORT[/DB]` or `redis-cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]`.
///
/// Parsing only: HOST stays text (a name is resolved by the application, once, at
/// start-up), and the password is a bb::secret, so that the url can be shown masked.

#include <bb/core/secret.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bb::redis {

/// One HOST:PORT of a url.
struct host_port {
  std::string host;  ///< a name, an IPv4 address, or an IPv6 address without its brackets
  std::uint16_t port = 6379;

  friend bool operator==(const host_port&, const host_port&) = default;
};

/// A parsed store url.
struct url {
  bool cluster = false;          ///< redis-cluster://: the hosts are seeds of a Redis Cluster
  std::vector<host_port> hosts;  ///< one for redis://, at least one for redis-cluster://
  secret password;               ///< from `:PASSWORD@`; empty when none
  unsigned db = 0;               ///< /DB (redis:// only)

  /// The url with the password as "***": what logs, errors and a configuration dump show.
  [[nodiscard]] std::string masked() const {
    std::string s = cluster ? "redis-cluster://" : "redis://";
    if (!password.empty()) (s += ':') += std::string(password.masked()) += '@';
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      if (i) s += ',';
      const bool v6 = hosts[i].host.find(':') != std::string::npos;
      s += v6 ? "[" + hosts[i].host + "]" : hosts[i].host;
      (s += ':') += std::to_string(hosts[i].port);
    }
    if (!cluster && db != 0) (s += '/') += std::to_string(db);
    return s;
  }
};

/// What parse_url gives: a url, or the words saying what is wrong (never the password).
struct url_or_error {
  std::optional<url> value;
  std::string why;
};

/// Parses `text`; the error names what is wrong without repeating the text.
inline url_or_error parse_url(std::string_view text) {
  url u;
  constexpr std::string_view single = "redis://", cluster = "redis-cluster://";
  if (text.starts_with(single)) {
    text.remove_prefix(single.size());
  } else if (text.starts_with(cluster)) {
    text.remove_prefix(cluster.size());
    u.cluster = true;
  } else {
    return {std::nullopt, "expected redis://[:PASSWORD@]HOST:PORT[/DB] or redis-cluster://HOST:PORT[,HOST:PORT...]"};
  }
  if (const auto at = text.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = text.substr(0, at);
    if (!userinfo.starts_with(':') || userinfo.size() < 2)
      return {std::nullopt, "the part before '@' must be ':PASSWORD' (no user name)"};
    u.password = secret(std::string(userinfo.substr(1)));
    text.remove_prefix(at + 1);
  }
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    if (u.cluster) return {std::nullopt, "a cluster has no database number"};
    const auto db = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), u.db);
    if (db.empty() || ec != std::errc{} || end != db.data() + db.size() || u.db > 15)
      return {std::nullopt, "the database must be a number 0..15"};
    text = text.substr(0, slash);
  }
  while (!text.empty() || u.hosts.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return {std::nullopt, "expected HOST:PORT after ','"};
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return {std::nullopt, "expected HOST:PORT"};
    auto host = item.substr(0, colon);
    if (host.starts_with('[')) {
      if (!host.ends_with(']') || host.size() < 3) return {std::nullopt, "expected [IPv6]:PORT"};
      host = host.substr(1, host.size() - 2);
    }
    const auto port_text = item.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
      return {std::nullopt, "the port must be a number 1..65535"};
    u.hosts.push_back({std::string(host), static_cast<std::uint16_t>(port)});
    if (comma == std::string_view::npos) break;
  }
  if (!u.cluster && u.hosts.size() != 1)
    return {std::nullopt, "redis:// takes one HOST:PORT; a list needs redis-cluster://"};
  return {std::move(u), {}};
}

}  // namespace bb::redis
