#pragma once
/// bb::peak_ewma_balancer: latency-aware balancing as in Finagle and Linkerd: the power of
/// two random choices on cost = latency estimate x (in flight + 1).
///
/// Weights bias which two hosts are drawn, not their cost: measured latency already says
/// what a host can take, and dividing by weight would hand every idle pair to the heavier
/// host instead of sharing in proportion to weight.
///
/// Each host keeps a peak-sensitive moving average of its latency. An observation above
/// the estimate replaces it at once (one slow answer is news); one below pulls it down with
/// weight 1 - exp(-dt / decay), dt the time since the previous observation, so the estimate
/// forgets with a time constant of `decay` (10 s by default), not after a count of requests.
/// A failed request counts as at least twice the current estimate, so a host that fails
/// fast does not look fast.
///
/// A host that gets no answers (because it is shunned for being slow) must be probed again
/// some time to learn whether it recovered: after `hold` (1 s by default) without news, the
/// estimate a pick reads fades toward zero with the same time constant, as in Finagle and
/// Linkerd. The hold keeps hosts in steady use at their true estimates, so equal latencies
/// tie and the weighted draw decides, rather than whichever host answered least recently.
///
/// A host that comes back up (cluster::comebacks changed since its estimate was made) starts
/// over as never observed: the failures that took it down each counted double and would
/// otherwise keep it shunned for several decay times after it recovered.
///
/// A host never observed costs `default_latency` (1 ms by default) per request in flight:
/// nothing while idle, so a new host gets a request as soon as it is drawn and its first
/// answer replaces the guess, and a growing price while its first answers are awaited
/// (Finagle's rule for a host without data).
///
/// Thread safety: picks read relaxed atomics and write nothing, except to forget a host
/// that came back (under its spinlock). Observations on one host are
/// serialised by that host's spinlock (a few arithmetic operations long); a pick racing one
/// may pair the new estimate with the old time stamp, or the reverse, which misjudges one
/// cost by a little and is harmless to a heuristic.
///
/// Determinism: std::exp may differ in its last bit between C libraries, so a seeded run
/// replays exactly on one platform but could, on a near tie, pick differently on another.

#include <bb/core/detail/spinlock.hpp>
#include <bb/lb/balancing_policy.hpp>
#include <bb/lb/detail/hosts.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace bb {

/// The tuning of bb::peak_ewma_balancer.
struct peak_ewma_options {
  std::chrono::nanoseconds decay = std::chrono::seconds(10);                ///< time constant of the average
  std::chrono::nanoseconds default_latency = std::chrono::milliseconds(1);  ///< before any answer
  std::chrono::nanoseconds hold = std::chrono::seconds(1);                  ///< unchanged this long without news
};

/// P2C, drawn by weight, on latency estimate x (in flight + 1).
class peak_ewma_balancer {
public:
  /// A balancer for hosts with these weights (one per host, each >= 1); throws
  /// std::invalid_argument on bad weights or a decay that is not positive.
  explicit peak_ewma_balancer(std::vector<std::uint32_t> weights, peak_ewma_options o = {})
      : weights_(std::move(weights)),
        hosts_(std::make_unique<host_state[]>(weights_.size())),
        decay_ns_(static_cast<double>(o.decay.count())),
        default_ns_(static_cast<double>(o.default_latency.count())),
        hold_ns_(o.hold.count()) {
    if (o.decay.count() <= 0 || o.hold.count() < 0)
      throw std::invalid_argument("peak-ewma: the decay must be positive and the hold not negative");
  }

  /// The host for the next attempt, or nullopt when no live, untried host is left.
  std::optional<std::size_t> pick(const pick_context& ctx) const {
    const auto [a, b] = detail::pick_two(ctx, weights_);
    if (!b) return a;
    forget_if_back(ctx.hosts, *a);
    forget_if_back(ctx.hosts, *b);
    return cost(*b, ctx.now) < cost(*a, ctx.now) ? *b : *a;
  }

  /// Host `i`'s latency estimate at `now`, in nanoseconds (`default_latency` before any
  /// answer).
  [[nodiscard]] double estimate_ns(std::size_t i, std::chrono::nanoseconds now) const noexcept {
    const std::int64_t now_ns = now.count();
    const auto& h = hosts_[i];
    const auto stamp = h.stamp_ns.load(std::memory_order_relaxed);
    const auto ewma = std::bit_cast<double>(h.ewma_bits.load(std::memory_order_relaxed));
    return stamp == never ? default_ns_ : ewma * fade(now_ns - stamp - hold_ns_);
  }

  /// What a pick weighs host `i` by: estimate x (in flight + 1); for a host never observed,
  /// default_latency x in flight.
  [[nodiscard]] double cost(std::size_t i, std::chrono::nanoseconds now) const noexcept {
    const auto& h = hosts_[i];
    const auto pending = static_cast<double>(std::max<std::int64_t>(h.in_flight.load(std::memory_order_relaxed), 0));
    if (h.stamp_ns.load(std::memory_order_relaxed) == never) return default_ns_ * pending;
    return estimate_ns(i, now) * (pending + 1);
  }

  /// Counts a request that was sent to host `i`.
  void on_start(std::size_t i) noexcept { hosts_[i].in_flight.fetch_add(1, std::memory_order_relaxed); }

  /// Counts host `i`'s request as done, and learns from its latency and outcome.
  void on_finish(std::size_t i, const attempt_result& r) noexcept {
    const std::int64_t latency_ns = r.latency.count();
    const std::int64_t now_ns = r.now.count();
    const bool ok = r.ok;
    auto& h = hosts_[i];
    h.in_flight.fetch_sub(1, std::memory_order_relaxed);
    double seen = static_cast<double>(std::max<std::int64_t>(latency_ns, 0));
    std::lock_guard lock(h.writer);
    const auto stamp = h.stamp_ns.load(std::memory_order_relaxed);
    const auto old = std::bit_cast<double>(h.ewma_bits.load(std::memory_order_relaxed));
    if (!ok) seen = std::max(seen, 2 * (stamp == never ? default_ns_ : old));
    double next = seen;
    if (stamp != never && seen < old) {
      const double keep = fade(now_ns - stamp);
      next = old * keep + seen * (1 - keep);
    }
    h.ewma_bits.store(std::bit_cast<std::uint64_t>(next), std::memory_order_relaxed);
    h.stamp_ns.store(std::max(now_ns, stamp), std::memory_order_relaxed);
  }

  /// Requests in flight on host `i`.
  [[nodiscard]] std::int64_t in_flight(std::size_t i) const noexcept {
    return hosts_[i].in_flight.load(std::memory_order_relaxed);
  }

private:
  static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::min();

  /// One host's state, alone on its cache line: every worker thread touches it.
  struct alignas(64) host_state {
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::uint64_t> ewma_bits{0};    ///< the estimate after the last observation, a double
    std::atomic<std::int64_t> stamp_ns{never};  ///< when it was observed; `never` before the first
    std::atomic<std::uint32_t> epoch{0};        ///< cluster::comebacks when the estimate was started
    detail::spinlock writer;
  };

  /// Resets host `i`'s estimate when it came up again since the estimate was made.
  void forget_if_back(const cluster& c, std::size_t i) const noexcept {
    auto& h = hosts_[i];
    const auto n = c.comebacks(i);
    if (h.epoch.load(std::memory_order_relaxed) == n) return;
    std::lock_guard lock(h.writer);
    h.epoch.store(n, std::memory_order_relaxed);
    h.stamp_ns.store(never, std::memory_order_relaxed);
    h.ewma_bits.store(0, std::memory_order_relaxed);
  }

  /// exp(-dt / decay): what is left of the estimate after `dt_ns` without news.
  [[nodiscard]] double fade(std::int64_t dt_ns) const noexcept {
    return dt_ns <= 0 ? 1.0 : std::exp(-static_cast<double>(dt_ns) / decay_ns_);
  }

  detail::weight_table weights_;
  std::unique_ptr<host_state[]> hosts_;
  double decay_ns_;
  double default_ns_;
  std::int64_t hold_ns_;
};

static_assert(balancing_policy<peak_ewma_balancer>);

}  // namespace bb
