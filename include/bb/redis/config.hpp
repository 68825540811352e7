#pragma once
/// bb::redis::client_config: the server one client talks to, and how patiently.

#include <bb/core/net.hpp>
#include <bb/core/secret.hpp>
#include <bb/redis/breaker.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace bb::redis {

/// One client's settings; the durations bound every wait it makes.
struct client_config {
  /// What log lines call the server ("redis 127.0.0.1:6379"): never with the password.
  std::string name = "redis";
  /// The server's address (resolved).
  endpoint server;
  /// AUTH's password; empty: no AUTH.
  secret password;
  /// SELECT's database; 0: no SELECT.
  unsigned db = 0;
  /// Lua scripts loaded (SCRIPT LOAD) on every new connection; script_sha(i) names the i-th.
  std::vector<std::string> scripts;
  /// How long connecting, AUTH, SELECT and SCRIPT LOAD may take together.
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(1);
  /// How long the oldest call may go unanswered past its deadline before the connection is
  /// taken for dead and dropped (a server stalled by DEBUG SLEEP, a paused process, a
  /// partition with no reset).
  std::chrono::nanoseconds stall_limit = std::chrono::seconds(1);
  /// Calls in flight on the connection at most; past it a call fails at once (overloaded).
  std::size_t max_in_flight = 4096;
  /// Reconnection backoff and circuit breaker.
  breaker_config breaker;
};

}  // namespace bb::redis
