#pragma once
/// bb::remote_limiter: the rate_limiter seam for a store that takes a round trip (Redis),
/// behind one virtual call so that the proxy need not know the store's type.
///
/// The in-memory store stays a direct call that never suspends (bb::memory_limiter); only a
/// remote decision, which costs a network round trip anyway, pays for the indirection and
/// a coroutine frame.

#include <bb/core/client_key.hpp>
#include <bb/core/task.hpp>
#include <bb/limit/decision.hpp>
#include <bb/metrics/counter.hpp>
#include <bb/metrics/histogram.hpp>

#include <chrono>

namespace bb {

/// What a remote limiter answered, and from where: single-writer counters (the worker's
/// thread counts; any thread may read, for /metrics).
struct remote_limiter_counters {
  metrics::counter decisions;     ///< every decide()
  metrics::counter from_redis;    ///< answered by a script
  metrics::counter cached;        ///< refused by the refusal cache, no round trip
  metrics::counter on_error;      ///< answered by the on-error policy
  metrics::counter reloads;       ///< calls resent as EVAL after NOSCRIPT
  metrics::counter redirects;     ///< calls resent after MOVED or ASK (a cluster)
  metrics::counter bad_replies;   ///< error replies and replies that are no decision
  metrics::histogram round_trip;  ///< from a decision's start to the script's answer (redirects included)
};

/// Decides requests against a store shared with other processes. One per worker thread:
/// it is used from that worker's thread only.
class remote_limiter {
public:
  virtual ~remote_limiter() = default;
  /// Decides one request of client `key`; `now` is the caller's clock's time since its
  /// epoch (a store with its own clock may ignore it). Never waits longer than the store's
  /// timeout: then it answers as the store's on-error policy says.
  virtual task<rate_decision> decide(const client_key& key, std::chrono::nanoseconds now) = 0;
  /// The store's own work (keeping its connections up) until stop(); the worker's owner
  /// runs it beside the worker's proxy and awaits it.
  virtual task<void> run() = 0;
  /// Ends run(); decisions from then on get the on-error answer.
  virtual void stop() = 0;

  /// What it answered so far.
  [[nodiscard]] const remote_limiter_counters& counters() const noexcept { return counters_; }

protected:
  remote_limiter_counters counters_;
};

}  // namespace bb
