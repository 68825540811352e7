#pragma once
/// bb::decide_retry: after an attempt on an upstream failed short of a response head, what
/// the forwarder does next. A pure function of the attempt's facts, so that every case is
/// one row of a table (tests/proxy/retry_test.cpp) rather than flags spread over a loop.
///
/// The rules: nothing was sent (a connect that failed, a write that took no byte): any
/// request moves on, since no upstream can have acted on it. Bytes went out: only an
/// idempotent request without a body (the proxy keeps no copy of a body) whose client has
/// seen nothing of a response moves on, and never after a timeout (a slow upstream may
/// still be working on it; a 504 tells the client so). A connection from the pool that
/// turns out closed before any response byte is the pool's staleness, not the host's
/// fault: one retry on a fresh connection to the same host, unless the cluster has that
/// host down by then (another request's failure ejected it: a crash resets every pooled
/// connection at once, and each fresh retry would be a connect to a host known dead,
/// outside the one probe per backoff), when it moves on instead. Every request has a budget of
/// attempts, so a fault cannot turn one request into a storm.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bb {

/// How an attempt on an upstream ended, short of a response head.
enum class attempt_failure : std::uint8_t {
  connect_failed,  ///< the connect was refused, reset or timed out: nothing was sent
  unsent,          ///< the connection took not one byte of the request
  closed_early,    ///< the connection ended before any response byte, after the request went out
  broken,          ///< the exchange failed after bytes went out (a reset, a malformed head)
  timed_out,       ///< the upstream was too slow to take the request or to answer it
};

/// What the forwarder does after a failed attempt.
enum class retry_action : std::uint8_t {
  other_host,       ///< try another live upstream, not this one again
  same_host_fresh,  ///< try the same upstream again on a new connection, not a pooled one
  answer_502,       ///< answer the client 502 Bad Gateway
  answer_504,       ///< answer the client 504 Gateway Timeout
};

/// The name of `a`, for tables and logs.
constexpr std::string_view to_string(retry_action a) noexcept {
  constexpr std::string_view names[] = {"other_host", "same_host_fresh", "answer_502", "answer_504"};
  return names[static_cast<int>(a)];
}

/// What decide_retry looks at.
struct attempt_facts {
  attempt_failure failure = attempt_failure::broken;
  bool idempotent = false;           ///< the method is idempotent (RFC 9110 §9.2.2)
  bool has_body = false;             ///< the request has a body (the proxy keeps no copy to send again)
  bool client_saw_response = false;  ///< something of a response (an interim 1xx) went to the client
  bool reused = false;               ///< the connection came from the pool
  bool fresh_retry_used = false;     ///< this request already had its retry on a fresh connection
  bool host_down = false;            ///< the cluster has the failed attempt's host down now
  std::size_t attempts = 1;          ///< attempts made so far, the failed one included
  std::size_t budget = 1;            ///< the most attempts the request may make
};

/// The attempt budget of a request to a cluster of `upstreams`: one per upstream, plus the
/// one retry on a fresh connection.
constexpr std::size_t retry_budget(std::size_t upstreams) noexcept { return upstreams + 1; }

/// What to do after the failed attempt `f` (see the file comment for the rules).
constexpr retry_action decide_retry(const attempt_facts& f) noexcept {
  const bool nothing_sent = f.failure == attempt_failure::connect_failed || f.failure == attempt_failure::unsent;
  const auto answer = f.failure == attempt_failure::timed_out ? retry_action::answer_504 : retry_action::answer_502;
  if (f.attempts >= f.budget) return answer;
  const bool pool_was_stale =
      f.reused && (f.failure == attempt_failure::unsent || f.failure == attempt_failure::closed_early);
  const bool replayable = nothing_sent || (f.idempotent && !f.has_body && !f.client_saw_response &&
                                           f.failure != attempt_failure::timed_out);
  if (!replayable) return answer;
  if (pool_was_stale && !f.fresh_retry_used && !f.host_down) return retry_action::same_host_fresh;
  return retry_action::other_host;
}

}  // namespace bb
