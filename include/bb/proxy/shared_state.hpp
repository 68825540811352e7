#pragma once
/// bb::shared_state: what every worker of one balancebeam process shares — upstream
/// health, the balancer's in-flight counts and latency estimates, the rate limiter and the
/// count of open client connections — built once from the configuration.

#include <bb/lb/policy.hpp>
#include <bb/limit/memory_limiter.hpp>
#include <bb/limit/remote_limiter.hpp>
#include <bb/proxy/config.hpp>
#include <bb/upstream/cluster.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bb {

/// Upstream health, balancing state and client rate limits, safe to use from every
/// worker thread.
struct shared_state {
  /// Built from `config`; `seed` seeds the limiter's hashing. Throws std::invalid_argument
  /// for balancing or rate-limit parameters the policy or algorithm rejects.
  shared_state(const proxy_config& config, std::uint64_t seed)
      : upstreams(config.upstreams), balance(config.balance.policy, weights_of(config), options_of(config)) {
    const auto& rl = config.rate_limit;
    if (!rl.enabled()) return;
    if (rl.redis.enabled() && rl.redis.on_error != rate_limit_on_error::local) return;
    limiter.emplace(rl.algorithm, std::int64_t{rl.limit}, rl.window, rl.effective_burst(), 64, seed);
  }

  /// With a Redis store, hands `l` to the worker whose proxy runs over `worker_transport`
  /// (each worker has a transport of its own); call it before making that worker's proxy.
  /// Not thread-safe: the application attaches every worker's limiter before starting any.
  void attach_remote_limiter(const void* worker_transport, remote_limiter& l) {
    remote_limiters_.emplace_back(worker_transport, &l);
  }
  /// The remote limiter attached for the worker over `worker_transport`; null when none.
  [[nodiscard]] remote_limiter* remote_limiter_for(const void* worker_transport) const noexcept {
    for (const auto& [t, l] : remote_limiters_)
      if (t == worker_transport) return l;
    return nullptr;
  }

  cluster upstreams;
  /// The `--balance` policy, shared so that in-flight counts and latencies are the process's.
  balancer balance;
  /// The in-memory limiter: the store itself (`--rate-limit-store memory`), or with a Redis
  /// store the fallback of `--rate-limit-on-error local`; empty otherwise.
  std::optional<memory_limiter> limiter;
  /// Client connections open in the whole process, held by connection_slot.
  std::atomic<std::uint32_t> connections{0};

private:
  std::vector<std::pair<const void*, remote_limiter*>> remote_limiters_;

  static std::vector<std::uint32_t> weights_of(const proxy_config& c) {
    std::vector<std::uint32_t> w;
    for (const auto& u : c.upstreams) w.push_back(u.weight);
    return w;
  }
  static balancer_options options_of(const proxy_config& c) {
    balancer_options o;
    for (const auto& u : c.upstreams) o.host_keys.push_back(u.name);
    o.ewma.decay = c.balance.ewma_decay;
    return o;
  }
};

/// One client connection counted in shared_state::connections while it lives.
class connection_slot {
public:
  /// Counts a connection unless that would pass `max` (0: no limit); an empty slot when
  /// the limit is reached.
  static connection_slot take(std::atomic<std::uint32_t>& open, std::uint32_t max) noexcept {
    if (open.fetch_add(1, std::memory_order_relaxed) >= max && max != 0) {
      open.fetch_sub(1, std::memory_order_relaxed);
      return connection_slot(nullptr);
    }
    return connection_slot(&open);
  }
  connection_slot(connection_slot&& o) noexcept : open_(std::exchange(o.open_, nullptr)) {}
  connection_slot& operator=(connection_slot&&) = delete;
  ~connection_slot() {
    if (open_) open_->fetch_sub(1, std::memory_order_relaxed);
  }
  explicit operator bool() const noexcept { return open_ != nullptr; }

private:
  explicit connection_slot(std::atomic<std::uint32_t>* open) noexcept : open_(open) {}
  std::atomic<std::uint32_t>* open_;
};

}  // namespace bb
