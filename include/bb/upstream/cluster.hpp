#pragma once
/// bb::cluster: the upstream hosts a proxy balances over, and whether each is live.
///
/// One cluster is shared by every worker thread of a process. The request path only
/// reads relaxed atomics: whether a host is up, and (passive checks only) when a dead
/// host may be tried again, which one request claims with a compare-and-swap. Writers are the passive checks of any
/// worker and the one active checker; they publish with plain stores, so there is no lock anywhere.

#include <bb/upstream/config.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bb {

/// One upstream host as the proxy sees it.
struct upstream_host {
  std::string name;
  endpoint address;
};

/// The live/dead state of one host, shared between threads.
struct host_health {
  std::atomic<bool> up{true};
  /// With active checks off: nanoseconds (on the proxy clock) when a dead host may be tried.
  std::atomic<std::int64_t> retry_at_ns{0};
  /// Consecutive passive ejections: each one doubles the backoff.
  std::atomic<std::uint32_t> ejections{0};
  /// Bumped by every passive ejection, so the active checker restarts its count to rise.
  std::atomic<std::uint32_t> generation{0};
  /// Bumped each time the host comes back up, so what a balancer learned about it before
  /// it went down (a latency estimate inflated by its failures) can be forgotten.
  std::atomic<std::uint32_t> comebacks{0};
  /// Every change of `up`, either way (for /metrics).
  std::atomic<std::uint32_t> changes{0};
};

/// The upstream hosts, indexed from 0, with their health; the host list is fixed after
/// start-up.
class cluster {
public:
  /// The hosts named in `upstreams`, in that order, all up.
  explicit cluster(const std::vector<upstream_config>& upstreams)
      : health_(std::make_unique<host_health[]>(upstreams.size())) {
    hosts_.reserve(upstreams.size());
    for (const auto& u : upstreams) hosts_.push_back({u.name, u.address});
  }

  [[nodiscard]] std::size_t size() const noexcept { return hosts_.size(); }
  [[nodiscard]] const upstream_host& at(std::size_t i) const noexcept { return hosts_[i]; }
  [[nodiscard]] host_health& health(std::size_t i) noexcept { return health_[i]; }
  [[nodiscard]] const host_health& health(std::size_t i) const noexcept { return health_[i]; }

  /// Whether host `i` may take a request at `now` (the proxy clock's time since its
  /// epoch): it is up, or passive backoff (used only when active checks are off) says it
  /// is time to try it again.
  [[nodiscard]] bool live(std::size_t i, std::chrono::nanoseconds now, bool passive_retry) const noexcept {
    const auto& h = health_[i];
    if (h.up.load(std::memory_order_relaxed)) return true;
    return passive_retry && now.count() >= h.retry_at_ns.load(std::memory_order_relaxed);
  }

  /// Records a failed connect to host `i` at `now`: a host that was up goes down for
  /// `base`; a failed probe (`probe`: the attempt claim_retry granted) doubles the backoff
  /// per consecutive failed probe, up to `cap`. Any other failure of a host already down
  /// (an attempt that started before another request's failure took it down) changes
  /// nothing: one outage counts once, however many attempts it catches. True when the
  /// host was up.
  bool eject(std::size_t i, std::chrono::nanoseconds now, std::chrono::nanoseconds base, std::chrono::nanoseconds cap,
             bool probe = false) noexcept {
    auto& h = health_[i];
    if (!probe && !h.up.load(std::memory_order_relaxed)) return false;
    const auto n = h.ejections.fetch_add(1, std::memory_order_relaxed);
    h.retry_at_ns.store(now.count() + backoff(n, base, cap), std::memory_order_relaxed);
    h.generation.fetch_add(1, std::memory_order_relaxed);
    if (!h.up.exchange(false, std::memory_order_relaxed)) return false;
    h.changes.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// With active checks off: whether the caller may send the one attempt (the probe) that
  /// tests down host `i` at `now`. True for exactly one caller once its backoff is over;
  /// the next probe is then due a backoff later, unless the probe's outcome (eject with
  /// `probe`, or restore) says otherwise first.
  bool claim_retry(std::size_t i, std::chrono::nanoseconds now, std::chrono::nanoseconds base,
                   std::chrono::nanoseconds cap) noexcept {
    auto& h = health_[i];
    if (h.up.load(std::memory_order_relaxed)) return false;
    auto at = h.retry_at_ns.load(std::memory_order_relaxed);
    if (now.count() < at) return false;
    const auto next = now.count() + backoff(h.ejections.load(std::memory_order_relaxed), base, cap);
    return h.retry_at_ns.compare_exchange_strong(at, next, std::memory_order_relaxed);
  }

  /// Records that host `i` answered; true when it was down (a passive recovery).
  bool restore(std::size_t i) noexcept {
    auto& h = health_[i];
    if (h.up.load(std::memory_order_relaxed) && h.ejections.load(std::memory_order_relaxed) == 0) return false;
    h.ejections.store(0, std::memory_order_relaxed);
    if (h.up.exchange(true, std::memory_order_relaxed)) return false;
    h.comebacks.fetch_add(1, std::memory_order_relaxed);
    h.changes.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// Sets host `i`'s state as the active checker decided; true when it changed.
  bool set_up(std::size_t i, bool up) noexcept {
    auto& h = health_[i];
    if (up) h.ejections.store(0, std::memory_order_relaxed);
    if (h.up.exchange(up, std::memory_order_relaxed) == up) return false;
    h.changes.fetch_add(1, std::memory_order_relaxed);
    if (up) h.comebacks.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// How many times host `i` came back up (see host_health::comebacks).
  [[nodiscard]] std::uint32_t comebacks(std::size_t i) const noexcept {
    return health_[i].comebacks.load(std::memory_order_relaxed);
  }

private:
  /// The backoff after `n` earlier consecutive ejections: base doubled n times, at most cap.
  static std::int64_t backoff(std::uint32_t n, std::chrono::nanoseconds base, std::chrono::nanoseconds cap) noexcept {
    return std::min<std::int64_t>(base.count() << std::min<std::uint32_t>(n, 20), cap.count());
  }

  std::vector<upstream_host> hosts_;
  std::unique_ptr<host_health[]> health_;
};

}  // namespace bb
