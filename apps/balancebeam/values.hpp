#pragma once
/// balancebeam's own kinds of flag value: listen and upstream addresses (names resolved
/// through an injected resolver), client IPs, and request paths.

#include <cli/parsed.hpp>
#include <cli/values.hpp>

#include <bb/core/net.hpp>
#include <bb/core/result.hpp>
#include <bb/core/secret.hpp>
#include <bb/limit/config.hpp>
#include <bb/redis/url.hpp>
#include <bb/upstream/config.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace balancebeam {

/// Resolves `host` for `port`, once, at start-up; the error says why it cannot. Injected so
/// that parsing never asks DNS by itself, and tests need none.
using resolve_fn = std::function<bb::result<bb::endpoint>(const std::string& host, std::uint16_t port)>;

/// "ip:port" or "[v6]:port" as is; "name:port" through `resolve`.
struct address_value {
  using value_type = bb::endpoint;
  resolve_fn resolve;

  [[nodiscard]] std::string expected() const { return "host:port"; }
  [[nodiscard]] std::string values() const { return "`ip:port`, `[v6]:port` or `name:port`"; }
  bb::cli::parsed<bb::endpoint> operator()(std::string_view text) const;
};
static_assert(bb::cli::value_parser<address_value>);

/// "host:port" or "host:port,weight=N" (N from 1 to `max_weight`); the "host:port" text is
/// the upstream's name.
struct upstream_value {
  using value_type = bb::upstream_config;
  address_value address;
  std::uint32_t max_weight = 1000;

  [[nodiscard]] std::string expected() const {
    return "host:port or host:port,weight=N with N 1.." + std::to_string(max_weight);
  }
  [[nodiscard]] std::string values() const { return "N 1.." + std::to_string(max_weight) + ", default 1"; }
  bb::cli::parsed<bb::upstream_config> operator()(std::string_view text) const;
};
static_assert(bb::cli::value_parser<upstream_value>);

/// An IPv4 or IPv6 address, without a port.
struct ip_value {
  using value_type = bb::ip_address;

  [[nodiscard]] std::string expected() const { return "an IP address"; }
  [[nodiscard]] std::string values() const { return "IPv4 or IPv6"; }
  bb::cli::parsed<bb::ip_address> operator()(std::string_view text) const;
};
static_assert(bb::cli::value_parser<ip_value>);

/// A request path: it starts with '/'.
struct path_value {
  using value_type = std::string;

  [[nodiscard]] std::string expected() const { return "a path starting with /"; }
  [[nodiscard]] std::string values() const { return "starting with `/`"; }
  bb::cli::parsed<std::string> operator()(std::string_view text) const;
};
static_assert(bb::cli::value_parser<path_value>);

/// Where rate limits are kept: `memory`, or a Redis url whose hosts are resolved through
/// `address`. The password never appears in a refusal.
struct store_value {
  /// The url (no hosts for `memory`) and its hosts resolved.
  struct value {
    bb::redis::url url;
    std::vector<bb::endpoint> servers;
  };
  using value_type = value;
  address_value address;

  [[nodiscard]] std::string expected() const {
    return "memory, redis://[:PASSWORD@]HOST:PORT[/DB] or redis-cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]";
  }
  [[nodiscard]] std::string values() const {
    return "`memory` (this process), `redis://[:PASSWORD@]HOST:PORT[/DB]` (one Redis that every instance shares), "
           "`redis-cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]` (a Redis Cluster, found through these nodes)";
  }
  bb::cli::parsed<value> operator()(std::string_view text) const;
  /// `text` with the password of a url masked, as an error line shows it.
  static std::string masked(std::string_view text);
};
static_assert(bb::cli::value_parser<store_value>);

/// A file whose content (less one final newline) is a secret, such as a password.
struct secret_file_value {
  using value_type = bb::secret;

  [[nodiscard]] std::string expected() const { return "a readable file holding the password"; }
  [[nodiscard]] std::string values() const { return "a file; one final newline is dropped"; }
  bb::cli::parsed<bb::secret> operator()(std::string_view path) const;
};
static_assert(bb::cli::value_parser<secret_file_value>);

/// Text that is not empty.
struct nonempty_text {
  using value_type = std::string;

  [[nodiscard]] std::string expected() const { return "text that is not empty"; }
  [[nodiscard]] std::string values() const { return "not empty"; }
  bb::cli::parsed<std::string> operator()(std::string_view text) const;
};
static_assert(bb::cli::value_parser<nonempty_text>);

}  // namespace balancebeam
