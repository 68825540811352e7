#pragma once
/// bb::gcra: the Generic Cell Rate Algorithm exactly as redis-cell's CL.THROTTLE defines it
/// (../shared/reference/gcra.md beside the repository): `count` requests per `period` with bursts of up
/// to `max_burst` more, one timestamp per client.
///
/// Each client's state is its theoretical arrival time (TAT): the time at which it would
/// have used nothing of its allowance. A request of `quantity` moves the TAT on by
/// `quantity` emission intervals T = period / count (nanoseconds, truncated); it is
/// admitted when the new TAT lies at most tau = T * (max_burst + 1) past now. A TAT at or
/// before now is the same as none, so an expired state is simply dropped (redis-cell lets
/// Redis expire the key at the TAT).

#include <algorithm>
#include <bb/limit/algorithm.hpp>
#include <bb/limit/decision.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace bb {

/// redis-cell's GCRA: limit = max_burst + 1, refill of one every period / count.
class gcra {
public:
  /// A client's state: its TAT in nanoseconds since the caller's epoch.
  struct state_type {
    std::int64_t tat = std::numeric_limits<std::int64_t>::min();  ///< min: never seen

    friend bool operator==(const state_type&, const state_type&) = default;
  };

  /// CL.THROTTLE's parameters. Throws std::invalid_argument for a negative burst, a zero
  /// or negative count or period ("zero rates are not supported"), an emission interval
  /// under 1 ns, or a limit or tolerance that does not fit (start-up configuration errors).
  gcra(std::int64_t max_burst, std::int64_t count, std::chrono::nanoseconds period) {
    if (max_burst < 0) throw std::invalid_argument("gcra: max_burst must not be negative");
    if (count < 0 || period.count() < 0) throw std::invalid_argument("gcra: count and period must not be negative");
    if (count == 0 || period.count() == 0) throw std::invalid_argument("gcra: zero rates are not supported");
    if (max_burst >= std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("gcra: max_burst + 1 must fit in 32 bits");
    emission_ = period.count() / count;
    if (emission_ == 0) throw std::invalid_argument("gcra: the emission interval period / count is under 1 ns");
    if (emission_ > std::numeric_limits<std::int64_t>::max() / (max_burst + 1))
      throw std::invalid_argument("gcra: the delay variation tolerance overflows");
    limit_ = static_cast<std::uint32_t>(max_burst + 1);
    tolerance_ = emission_ * (max_burst + 1);
  }

  /// Decides a request for `quantity` units at `now`, as CL.THROTTLE would: quantity 0
  /// peeks, a quantity over the limit is refused with retry_after -1, and a refusal
  /// leaves the state as it was.
  rate_decision decide(state_type& s, std::chrono::nanoseconds now, std::uint32_t quantity) const noexcept {
    const std::int64_t t = now.count();
    const std::int64_t tat = std::max(s.tat, t);
    rate_decision d;
    d.limit = limit_;
    std::int64_t ttl = tat - t;
    d.allowed = false;
    d.retry_after_ns = -1;
    if (quantity <= limit_) {  // else increment > tau: refused for ever, retry_after -1
      const std::int64_t new_tat = tat + emission_ * quantity;
      const std::int64_t diff = t - (new_tat - tolerance_);
      if (diff < 0) {
        d.retry_after_ns = -diff;
      } else {
        s.tat = new_tat;
        ttl = new_tat - t;
        d.allowed = true;
      }
    }
    const std::int64_t next = tolerance_ - ttl;
    d.remaining = next > -emission_ ? static_cast<std::uint32_t>(std::max<std::int64_t>(next / emission_, 0)) : 0;
    d.reset_after_ns = ttl;
    return d;
  }

  /// One request at `now`.
  rate_decision decide(state_type& s, std::chrono::nanoseconds now) const noexcept { return decide(s, now, 1); }

  /// The TAT: from then on the state is as good as never seen.
  std::chrono::nanoseconds expires_at(const state_type& s) const noexcept { return std::chrono::nanoseconds(s.tat); }

  /// max_burst + 1.
  std::uint32_t limit() const noexcept { return limit_; }
  /// T = period / count, in nanoseconds.
  std::chrono::nanoseconds emission_interval() const noexcept { return std::chrono::nanoseconds(emission_); }
  /// tau = T * (max_burst + 1), in nanoseconds.
  std::chrono::nanoseconds tolerance() const noexcept { return std::chrono::nanoseconds(tolerance_); }

private:
  std::int64_t emission_ = 0;
  std::int64_t tolerance_ = 0;
  std::uint32_t limit_ = 0;
};

static_assert(rate_algorithm<gcra>);

}  // namespace bb
