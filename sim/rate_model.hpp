#pragma once
/// bb::sim::rate_model: what each rate-limit algorithm must answer, written from the
/// definitions (issue 5, ../shared/reference/gcra.md) and not from bb/limit, so that the
/// proxy's answers are checked against an independent reading of the same rules.
///
/// Times are the virtual clock's, whose epoch is the start of the run: fixed and sliding
/// windows are [k*W, (k+1)*W) from time 0.

#include <algorithm>
#include <bb/limit/decision.hpp>
#include <cstdint>
#include <limits>
#include <sim/executor.hpp>

namespace bb::sim {

/// A limit as the proxy is configured with it.
struct rate_params {
  rate_limit_algorithm algorithm = rate_limit_algorithm::fixed_window;
  std::uint32_t n = 5;  ///< --max-requests-per-minute
  duration window = std::chrono::seconds(60);
  std::uint32_t burst = 4;  ///< GCRA's max_burst (the default: n - 1)
};

constexpr std::string_view to_string(rate_limit_algorithm a) noexcept {
  constexpr std::string_view names[] = {"fixed_window", "sliding_window", "gcra"};
  return names[static_cast<int>(a)];
}

/// One decision as the client must see it: the status and the four headers.
struct expected_decision {
  bool allowed = false;
  std::int64_t limit = 0, remaining = 0;
  std::int64_t reset_s = 0;       ///< X-RateLimit-Reset
  std::int64_t retry_after = -1;  ///< Retry-After, whole seconds; -1: absent (admitted)
  std::int64_t retry_after_ns = -1;
};

/// Whole seconds, rounded up, as the headers carry them; negative stays -1.
constexpr std::int64_t seconds_up(std::int64_t ns) noexcept { return ns < 0 ? -1 : (ns + 999'999'999) / 1'000'000'000; }

class rate_model {
public:
  /// One client's state: fixed/sliding keep (window, previous, current); gcra keeps the TAT in `a`.
  struct state {
    std::int64_t a = std::numeric_limits<std::int64_t>::min();
    std::int64_t previous = 0, current = 0;
  };

  explicit rate_model(const rate_params& p) noexcept
      : p_(p), w_(p.window.count()), t_(p.window.count() / p.n), tau_(t_ * (std::int64_t{p.burst} + 1)) {}

  /// The emission interval T = W / N (nanoseconds, truncated as redis-cell does).
  [[nodiscard]] std::int64_t emission() const noexcept { return t_; }
  /// The requests a client may send at once: N for the windows, burst + 1 for gcra.
  [[nodiscard]] std::int64_t limit() const noexcept {
    return p_.algorithm == rate_limit_algorithm::gcra ? std::int64_t{p_.burst} + 1 : std::int64_t{p_.n};
  }

  /// The decision for one request at `now` (ns since the epoch, >= 0), updating `s`.
  expected_decision decide(state& s, std::int64_t now) const noexcept {
    switch (p_.algorithm) {
      case rate_limit_algorithm::gcra: return gcra(s, now);
      case rate_limit_algorithm::sliding_window: return sliding(s, now);
      case rate_limit_algorithm::fixed_window: break;
    }
    return fixed(s, now);
  }

private:
  expected_decision fixed(state& s, std::int64_t now) const noexcept {
    const std::int64_t k = now / w_;
    if (s.a != k) s = {k, 0, 0};
    const std::int64_t left = (k + 1) * w_ - now;
    expected_decision d;
    d.limit = p_.n;
    d.allowed = s.current < p_.n;
    if (d.allowed) ++s.current;
    d.remaining = d.allowed ? p_.n - s.current : 0;
    d.reset_s = seconds_up(left);
    if (!d.allowed) d.retry_after_ns = left, d.retry_after = seconds_up(left);
    return d;
  }

  // The pseudo-code of gcra.md, line for line.
  expected_decision gcra(state& s, std::int64_t now) const noexcept {
    const std::int64_t tat = s.a == std::numeric_limits<std::int64_t>::min() ? now : s.a;
    const std::int64_t new_tat = std::max(now, tat) + t_;
    const std::int64_t diff = now - (new_tat - tau_);
    expected_decision d;
    d.limit = limit();
    std::int64_t ttl;
    if (diff < 0) {
      d.retry_after_ns = -diff;
      ttl = tat - now;
    } else {
      d.allowed = true;
      s.a = new_tat;
      ttl = new_tat - now;
    }
    const std::int64_t next = tau_ - ttl;
    d.remaining = next > -t_ ? std::max<std::int64_t>(next / t_, 0) : 0;
    d.reset_s = seconds_up(ttl);
    d.retry_after = d.allowed ? -1 : seconds_up(d.retry_after_ns);
    return d;
  }

  /// Whether `previous` requests spread over the last window, weighted by what is left of
  /// it at `elapsed`, plus `current` leave room for one more: previous*(W-e)/W + current < N.
  [[nodiscard]] bool room(std::int64_t previous, std::int64_t current, std::int64_t elapsed) const noexcept {
    __extension__ using u128 = unsigned __int128;
    if (current >= p_.n) return false;
    return u128(previous) * u128(w_ - elapsed) < u128(p_.n - current) * u128(w_);
  }

  // The sliding-window counter of issue 5: the previous window's count weighted by the
  // part of it still inside the last W. retry_after is found by bisection, independently
  // of the proxy's closed form.
  expected_decision sliding(state& s, std::int64_t now) const noexcept {
    const std::int64_t k = now / w_;
    if (s.a != k) s = {k, s.a == k - 1 ? s.current : 0, 0};
    const std::int64_t e = now - k * w_;
    expected_decision d;
    d.limit = p_.n;
    d.allowed = room(s.previous, s.current, e);
    __extension__ using u128 = unsigned __int128;
    const std::int64_t carried = static_cast<std::int64_t>(u128(s.previous) * u128(w_ - e) / u128(w_));
    if (d.allowed) ++s.current, d.remaining = std::max<std::int64_t>(p_.n - s.current - carried, 0);
    const std::int64_t windows = s.current > 0 ? 2 : s.previous > 0 ? 1 : 0;
    d.reset_s = seconds_up((k + windows) * w_ - now);
    if (!d.allowed) {
      std::int64_t at;  // offset from this window's start of the first admitting instant
      if (room(s.previous, s.current, w_ - 1)) {
        std::int64_t lo = e, hi = w_ - 1;  // room at hi, none at lo
        while (hi - lo > 1) {
          const std::int64_t mid = lo + (hi - lo) / 2;
          (room(s.previous, s.current, mid) ? hi : lo) = mid;
        }
        at = hi;
      } else {
        at = w_;  // this window is full: the next one, carrying `current` as its previous
        while (!room(s.current, 0, at - w_)) ++at;
      }
      d.retry_after_ns = at - e;
      d.retry_after = seconds_up(d.retry_after_ns);
    }
    return d;
  }

  rate_params p_;
  std::int64_t w_, t_, tau_;
};

}  // namespace bb::sim
