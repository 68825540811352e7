#pragma once
/// bb::proxy: the load-balancing HTTP/1.1 reverse proxy, written once over a transport
/// and a clock.
///
/// One proxy object is one worker: it owns a listener, the sessions it accepted, a
/// connection pool and a timer sweep, all on one thread. The application runs one per
/// thread over real sockets (each with its own SO_REUSEPORT listener); the simulator
/// runs one over simulated hosts. Nothing here knows which.

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/health/checker.hpp>
#include <bb/proxy/context.hpp>
#include <bb/proxy/session.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

namespace bb {

/// Accepts client connections and serves each in a session until drained.
template <transport Transport, clock Clock>
class proxy {
public:
  using context_type = proxy_context<Transport, Clock>;

  /// A single proxy over `t` and `c`, drawing randomness from `random`, with its own
  /// upstream health and active checks; `config` and `log` must outlive it. Throws
  /// std::invalid_argument when no upstream is configured.
  proxy(Transport& t, Clock& c, rng random, const proxy_config& config, const logger& log)
      : own_shared_(std::make_unique<shared_state>(checked(config), random())),
        ctx_(t, c, random, config, log, *own_shared_),
        primary_(true),
        checker_(std::in_place, t, c, ctx_.random.split(), own_shared_->upstreams, config.health, config.limits, log) {}

  /// One worker of several: upstream health and rate limits live in `shared`, which every
  /// worker uses and which must outlive them. Exactly one worker should be `primary`: it
  /// runs the active health checks and the periodic clean-up of shared state.
  proxy(Transport& t, Clock& c, rng random, const proxy_config& config, const logger& log, shared_state& shared,
        bool primary)
      : ctx_(t, c, random, checked(config), log, shared), primary_(primary) {
    if (primary) checker_.emplace(t, c, ctx_.random.split(), shared.upstreams, config.health, config.limits, log);
  }

  /// Binds the configured address; the error when that fails.
  std::error_code listen() {
    auto a = ctx_.transport.listen(ctx_.config.bind);
    if (!a) return a.error();
    acceptor_.emplace(std::move(a.value()));
    return {};
  }

  /// The address actually bound (the port the system chose when configured as 0).
  [[nodiscard]] endpoint local_endpoint() const { return acceptor_->local_endpoint(); }

  /// Serves until drain() and the end of every session; listen() must have succeeded.
  task<void> run() {
    scope s;
    s.spawn(accept_loop(s));
    s.spawn(sweep());
    if (checker_) s.spawn(checker_->run(), health_stop_.token());
    co_await s.join();
    co_await ctx_.pool.shutdown();
  }

  /// What happened to this worker's pooled connections to upstream `i` since start.
  [[nodiscard]] const pool_counters& pool_stats(std::size_t i) const noexcept { return ctx_.pool.counters(i); }

  /// Stops accepting and closes idle connections at once; requests in flight finish
  /// (their connections then close) or are cut when the grace period ends. Call it on
  /// the proxy's own thread.
  void drain() {
    if (ctx_.draining) return;
    ctx_.draining = true;
    drain_deadline_ = ctx_.clock.now() + ctx_.config.shutdown_grace;
    if (acceptor_) acceptor_->close();
    health_stop_.request_stop();
    ctx_.sessions.for_each([](auto* l) {
      if (l->idle_(l)) l->expire_(l);
    });
  }

  /// Counters since start.
  [[nodiscard]] const proxy_stats& stats() const noexcept { return ctx_.stats; }
  /// This worker's remote (Redis) limiter; null with the in-memory store or no limit.
  [[nodiscard]] const remote_limiter* remote() const noexcept { return ctx_.remote; }
  /// The active checks' counts for upstream `i`; null unless this worker runs the checks.
  [[nodiscard]] const check_stats* checks(std::size_t i) const noexcept {
    return checker_ ? &checker_->stats(i) : nullptr;
  }

private:
  using stream_type = typename Transport::stream;

  static const proxy_config& checked(const proxy_config& c) {
    if (c.upstreams.empty()) throw std::invalid_argument("bb::proxy needs at least one upstream");
    return c;
  }

  task<void> accept_loop(scope& s) {
    while (!ctx_.draining) {
      auto r = co_await acceptor_->accept();
      if (!r) {
        if (ctx_.draining) break;
        ctx_.log.log(log_level::error, (line{} << "accept failed: " << r.error().message()).s);
        // Out of descriptors or memory: pause rather than spin on the same error.
        co_await ctx_.clock.sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      ctx_.stats.connections.add();
      auto slot = connection_slot::take(ctx_.shared.connections, ctx_.config.max_connections);
      if (!slot) {
        refuse(std::move(r->stream));
        continue;
      }
      s.spawn(session<Transport, Clock>::serve(ctx_, std::move(r->stream), r->peer, std::move(slot)));
    }
  }

  /// Closes a connection accepted past max_connections at once. Logged at most once per
  /// refusal_log_interval with the count since the last line, not once per connection:
  /// a flood must not become a flood of log lines.
  void refuse(stream_type client) {
    client.close();
    ctx_.stats.refused_connections.add();
    ++refused_unlogged_;
    const auto now = ctx_.clock.now();
    if (refusal_logged_ && now - *refusal_logged_ < refusal_log_interval) return;
    refusal_logged_ = now;
    ctx_.log.log(log_level::warn, (line{} << "over --max-connections " << ctx_.config.max_connections << ": closed "
                                          << refused_unlogged_ << " new connection(s) since the last such line")
                                      .s);
    refused_unlogged_ = 0;
  }

  /// Every tick, cuts the sessions whose phase deadline has passed; after a drain, ends
  /// when the last session is gone or cuts them all when the grace period is over.
  task<void> sweep() {
    constexpr auto tick = std::chrono::milliseconds(100);
    constexpr int ticks_per_limiter_sweep = 100;  // reclaim idle clients' limits every 10 s
    constexpr int ticks_per_buffer_trim = 10;     // free buffers a quiet worker no longer needs
    constexpr int ticks_per_pool_sweep = 10;      // close idle upstream connections that expired
    for (int n = 1;; ++n) {
      co_await ctx_.clock.sleep_for(tick);
      const auto now = ctx_.clock.now();
      if (n % ticks_per_buffer_trim == 0) ctx_.buffers.trim();
      if (n % ticks_per_pool_sweep == 0) sweep_pool(now);
      if (primary_ && ctx_.limiter && n % ticks_per_limiter_sweep == 0) ctx_.limiter->sweep(since_epoch(now));
      const bool grace_over = ctx_.draining && now >= drain_deadline_;
      ctx_.sessions.for_each([&](auto* l) {
        if (grace_over || now >= l->deadline_) {
          if (now >= l->deadline_) ctx_.stats.timeouts.add();
          l->deadline_ = Clock::time_point::max();
          l->expire_(l);
        }
      });
      if (ctx_.draining && ctx_.sessions.size() == 0) break;
    }
  }

  /// Closes the pooled connections to upstreams that are down (an active check or another
  /// worker found them dead) and those idle past upstream_idle_timeout.
  void sweep_pool(typename Clock::time_point now) {
    for (std::size_t i = 0; i < ctx_.upstreams.size(); ++i)
      if (!ctx_.upstreams.health(i).up.load(std::memory_order_relaxed)) ctx_.pool.drop(i);
    ctx_.pool.expire(since_epoch(now), ctx_.config.upstream_idle_timeout);
  }

  std::unique_ptr<shared_state> own_shared_;  // set when this proxy is not one of several workers
  context_type ctx_;
  bool primary_;
  std::optional<health_checker<Transport, Clock>> checker_;
  cancel_source health_stop_;
  std::optional<typename Transport::acceptor> acceptor_;
  typename Clock::time_point drain_deadline_{};
  static constexpr std::chrono::seconds refusal_log_interval{10};
  std::optional<typename Clock::time_point> refusal_logged_;  // when the last refusal line went out
  std::uint64_t refused_unlogged_ = 0;                        // refusals since then
};

}  // namespace bb
