#pragma once
/// bb::proxy_config: everything a proxy instance is told at start-up.

#include <bb/core/client_key.hpp>
#include <bb/core/net.hpp>
#include <bb/health/config.hpp>
#include <bb/http/limits.hpp>
#include <bb/lb/config.hpp>
#include <bb/limit/config.hpp>
#include <bb/proxy/access_log.hpp>
#include <bb/upstream/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bb {

/// The proxy's settings; defaults are those of the balancebeam command line.
struct proxy_config {
  endpoint bind = *endpoint::parse("0.0.0.0:1100");
  std::vector<upstream_config> upstreams;
  /// How an upstream is chosen for each request.
  balance_config balance;

  /// Bounds on request heads and bodies (`--max-header-bytes`, `--max-headers`,
  /// `--max-body-bytes`); the head bounds apply to upstream response heads as well.
  http::limits limits;
  /// Client connections the whole process serves at once (`--max-connections`); past it a
  /// new connection is closed as soon as it is accepted. 0: no limit.
  std::uint32_t max_connections = 10000;
  /// How long a keep-alive connection may wait for its next request; then it is closed
  /// without a response.
  std::chrono::nanoseconds client_idle_timeout = std::chrono::seconds(60);
  /// How long a client may take to send a whole request head, counted from the accept for
  /// a connection's first request and from the head's first byte after that. Past it: 408
  /// when part of a head came, a silent close when nothing did.
  std::chrono::nanoseconds client_header_timeout = std::chrono::seconds(10);
  /// How long connecting to an upstream may take before it counts as a failure.
  std::chrono::nanoseconds upstream_connect_timeout = std::chrono::seconds(2);
  /// How long an upstream may take to send a whole response head once it has the whole
  /// request; past it: 504.
  std::chrono::nanoseconds upstream_response_timeout = std::chrono::seconds(30);
  /// How long a body may stall (no byte moving) while it streams, either way: a request
  /// body from the client or to the upstream, a response body from the upstream or to the
  /// client, and the proxy's own answers. A request body that stalls gets 408; anything
  /// else closes.
  std::chrono::nanoseconds body_idle_timeout = std::chrono::seconds(30);
  /// How long a pooled keep-alive connection to an upstream may sit idle before it is
  /// closed (checked every second). Connections to an upstream that goes down are closed
  /// too, and those from before it came back up are never reused.
  std::chrono::nanoseconds upstream_idle_timeout = std::chrono::seconds(60);
  /// How many idle keep-alive connections each worker keeps per upstream; past it, the
  /// oldest is closed.
  std::size_t upstream_pool_size = 64;
  /// How access lines are written (`--access-log-format`).
  access_log_format access_log = access_log_format::text;
  /// After an error answer that closes a connection whose request was not read whole (a
  /// 413 while the body still comes, say), how long the proxy keeps reading and dropping
  /// what the client sends, having shut down its own side: closing at once with unread
  /// bytes makes the kernel send a reset, which can destroy the answer before the client
  /// reads it. nginx's lingering_timeout is the same 5 s.
  std::chrono::nanoseconds linger_timeout = std::chrono::seconds(5);
  /// After drain(): how long in-flight requests may take before they are cut.
  std::chrono::nanoseconds shutdown_grace = std::chrono::seconds(10);

  /// Active and passive health checking of the upstreams.
  health_config health;
  /// The per-client rate limit.
  rate_limit_config rate_limit;
  /// Who a request's client is, for the rate limit and consistent hashing.
  client_identity_config clients;
};

}  // namespace bb
