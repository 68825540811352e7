#pragma once
/// bb::sliding_window: the sliding-window counter (Cloudflare's and HAProxy's estimate):
/// at most N requests per client in any window of length W, approximately, with two
/// counters per client instead of a log of timestamps.
///
/// Windows are aligned as in fixed_window: window k is [k*W, (k+1)*W). At time t, with
/// `elapsed = t - k*W`, `previous` the requests admitted in window k-1 and `current` those
/// admitted so far in window k, the requests of the last W are estimated as
///
///     estimate = previous * (W - elapsed) / W + current
///
/// (the previous window's requests are assumed evenly spread) and a request is admitted
/// when `estimate < N`. The comparison is exact, in integers: with
/// `carried = floor(previous * (W - elapsed) / W)` (128-bit product, nanoseconds),
/// `estimate < N` holds exactly when `current + carried < N`, because N and current are
/// whole. Only admitted requests are counted.
///
/// The decision's figures follow from the same rule:
/// - remaining   = N - current - carried after this request, floored at 0: the requests
///                 admitted if they all came now;
/// - retry_after = the first nanosecond at which `current + carried < N` holds again, if
///                 nothing else arrives (within this window while current < N, else 1 ns
///                 into the next window when current == N: the estimate is then exactly N);
/// - reset_after = the wait until the state is empty again: the end of the next window
///                 when current > 0, else the end of this one.

#include <algorithm>
#include <bb/limit/algorithm.hpp>
#include <bb/limit/decision.hpp>
#include <bb/limit/detail/time_math.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace bb {

/// About N requests per sliding window of W (the previous window's count, weighted).
class sliding_window {
public:
  /// A client's state: its current window's index and the admissions in it and the one before.
  struct state_type {
    std::int64_t window = std::numeric_limits<std::int64_t>::min();  ///< min: never seen
    std::uint32_t previous = 0;
    std::uint32_t current = 0;

    friend bool operator==(const state_type&, const state_type&) = default;
  };

  /// `limit` requests per `window`; throws std::invalid_argument unless
  /// 1 <= limit <= 2^32-1 and window > 0 (a start-up configuration error).
  sliding_window(std::int64_t limit, std::chrono::nanoseconds window) : window_(window.count()) {
    if (limit <= 0 || limit > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("sliding_window: the limit must be between 1 and 2^32-1");
    if (window_ <= 0) throw std::invalid_argument("sliding_window: the window must be positive");
    limit_ = static_cast<std::uint32_t>(limit);
  }

  /// Decides one request at `now`. A `now` before the state's window (threads read the
  /// clock before they reach the shard) is taken as that window's start.
  rate_decision decide(state_type& s, std::chrono::nanoseconds now) const noexcept {
    const std::int64_t t = now.count();
    const std::int64_t index = detail::floor_div(t, window_);
    if (index > s.window) s = {index, index == s.window + 1 ? s.current : 0u, 0u};
    const std::int64_t start = s.window * window_;
    const std::int64_t elapsed = std::max<std::int64_t>(t - start, 0);
    const std::uint64_t w = static_cast<std::uint64_t>(window_);
    const std::uint64_t carried = detail::mul_div(s.previous, w - static_cast<std::uint64_t>(elapsed), w);

    rate_decision d;
    d.limit = limit_;
    if (s.current + carried < limit_) {
      ++s.current;
      d.allowed = true;
      d.remaining = static_cast<std::uint32_t>(limit_ - std::min<std::uint64_t>(limit_, s.current + carried));
      d.retry_after_ns = -1;
    } else {
      d.allowed = false;
      d.remaining = 0;
      d.retry_after_ns = start + admitted_from(s) - t;
    }
    d.reset_after_ns = expires_at(s).count() - t;
    return d;
  }

  /// When the state empties: the end of the next window if this one admitted anything,
  /// else the end of this one (previous requests weigh nothing from then on).
  std::chrono::nanoseconds expires_at(const state_type& s) const noexcept {
    if (s.window == std::numeric_limits<std::int64_t>::min()) return std::chrono::nanoseconds::min();
    const std::int64_t windows = s.current > 0 ? 2 : s.previous > 0 ? 1 : 0;
    return std::chrono::nanoseconds((s.window + windows) * window_);
  }

  /// N.
  std::uint32_t limit() const noexcept { return limit_; }
  /// W.
  std::chrono::nanoseconds window() const noexcept { return std::chrono::nanoseconds(window_); }

private:
  /// The first offset from the state's window start at which a request is admitted again,
  /// for a state that refuses now. Within the window, the smallest e with
  /// previous * (W - e) < (N - current) * W; past it (current == N), the next window's
  /// previous is N and the smallest e' with N * (W - e') < N * W is 1.
  std::int64_t admitted_from(const state_type& s) const noexcept {
    using detail::uint128_t;
    const std::uint64_t w = static_cast<std::uint64_t>(window_);
    if (s.current < limit_) {  // here previous > 0, or the request would have been admitted
      const uint128_t room = uint128_t{limit_ - s.current} * w - 1;
      const uint128_t weight = room / s.previous;  // the largest W - e that is admitted
      return window_ - static_cast<std::int64_t>(std::min<uint128_t>(weight, w));
    }
    const uint128_t weight = (uint128_t{limit_} * w - 1) / s.current;
    return window_ + window_ - static_cast<std::int64_t>(std::min<uint128_t>(weight, w));
  }

  std::int64_t window_;
  std::uint32_t limit_ = 0;
};

static_assert(rate_algorithm<sliding_window>);

}  // namespace bb
