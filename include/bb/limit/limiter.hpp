#pragma once
/// The rate_limiter concept: the seam through which the proxy asks whether a client's
/// request may pass.
///
/// The answer is awaitable so that a remote store (GCRA state in Redis, shared by many
/// balancebeam instances) can take a round trip, while the in-memory store answers with
/// bb::ready, which `co_await` takes without suspending.

#include <bb/core/awaitable.hpp>
#include <bb/core/client_key.hpp>
#include <bb/limit/decision.hpp>
#include <chrono>

namespace bb {

/// `l.decide(key, now)` decides one request of the client `key` and yields an awaitable of
/// its rate_decision. `now` is the caller's clock's time_since_epoch(); a store with its own
/// clock (Redis `TIME`) may ignore it. It may be called from any thread at once.
template <class L>
concept rate_limiter = requires(L& l, const client_key& key, std::chrono::nanoseconds now) {
  { l.decide(key, now) } -> awaitable_of<rate_decision>;
};

}  // namespace bb
