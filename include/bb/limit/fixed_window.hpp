#pragma once
/// bb::fixed_window: at most N requests per client in each window of length W, the limit
/// of the original balancebeam (`--max-requests-per-minute N`: W = 60 s).
///
/// Windows are aligned to whole multiples of W since the epoch of the caller's clock:
/// window k is [k*W, (k+1)*W). Every client's windows therefore start together, which is
/// what makes the limit cheap (one index and one count per client) and also what lets a
/// client send 2N requests across a window edge; sliding_window and gcra close that gap.

#include <bb/limit/algorithm.hpp>
#include <bb/limit/decision.hpp>
#include <bb/limit/detail/time_math.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace bb {

/// N requests per aligned window of W; refused requests are not counted.
class fixed_window {
public:
  /// A client's state: the index of its current window and the requests admitted in it.
  struct state_type {
    std::int64_t window = std::numeric_limits<std::int64_t>::min();  ///< min: never seen
    std::uint32_t count = 0;

    friend bool operator==(const state_type&, const state_type&) = default;
  };

  /// `limit` requests per `window`; throws std::invalid_argument unless
  /// 1 <= limit <= 2^32-1 and window > 0 (a start-up configuration error).
  fixed_window(std::int64_t limit, std::chrono::nanoseconds window) : window_(window.count()) {
    if (limit <= 0 || limit > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("fixed_window: the limit must be between 1 and 2^32-1");
    if (window_ <= 0) throw std::invalid_argument("fixed_window: the window must be positive");
    limit_ = static_cast<std::uint32_t>(limit);
  }

  /// Decides one request at `now`. A `now` that lies in a window older than the state's
  /// (threads read the clock before they reach the shard) counts against the newer
  /// window: time stepping back never reopens a window.
  rate_decision decide(state_type& s, std::chrono::nanoseconds now) const noexcept {
    const std::int64_t t = now.count();
    const std::int64_t index = detail::floor_div(t, window_);
    if (index > s.window) s = {index, 0};
    const std::int64_t end = (s.window + 1) * window_;
    rate_decision d;
    d.limit = limit_;
    d.reset_after_ns = end - t;
    if (s.count < limit_) {
      ++s.count;
      d.allowed = true;
      d.remaining = limit_ - s.count;
      d.retry_after_ns = -1;
    } else {
      d.allowed = false;
      d.remaining = 0;
      d.retry_after_ns = end - t;
    }
    return d;
  }

  /// The end of the state's window, after which it is as good as never seen.
  std::chrono::nanoseconds expires_at(const state_type& s) const noexcept {
    if (s.window == std::numeric_limits<std::int64_t>::min()) return std::chrono::nanoseconds::min();
    return std::chrono::nanoseconds((s.window + 1) * window_);
  }

  /// N.
  std::uint32_t limit() const noexcept { return limit_; }
  /// W.
  std::chrono::nanoseconds window() const noexcept { return std::chrono::nanoseconds(window_); }

private:
  std::int64_t window_;
  std::uint32_t limit_ = 0;
};

static_assert(rate_algorithm<fixed_window>);

}  // namespace bb
