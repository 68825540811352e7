#pragma once
/// bb::redis_limiter: the rate limit kept in Redis and shared by every balancebeam
/// instance that points at it (`--rate-limit-store redis://...` or `redis-cluster://...`),
/// one per worker.
///
/// A decision is one EVALSHA of the algorithm's script (redis_scripts.hpp) on the worker's
/// pipelined connection (bb::redis::client), or on the connection to the node that owns
/// the client's key in a cluster (bb::redis::cluster; MOVED and ASK are followed, at most
/// a few hops, within the same deadline). It never waits longer than the configured
/// timeout: past it, or at once while Redis is unavailable or stalled, the on-error policy
/// answers (allow, deny, or this instance's in-memory limiter). A client Redis refused is
/// refused here until the time Redis gave, without a round trip (refusal_cache.hpp). A
/// script missing from Redis's cache (a restart, SCRIPT FLUSH) answers NOSCRIPT; the call
/// is sent again as EVAL, which puts the script back, within the same deadline.

#include <bb/core/clock.hpp>
#include <bb/core/log.hpp>
#include <bb/core/random.hpp>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>
#include <bb/limit/config.hpp>
#include <bb/limit/memory_limiter.hpp>
#include <bb/limit/redis_scripts.hpp>
#include <bb/limit/refusal_cache.hpp>
#include <bb/limit/remote_limiter.hpp>
#include <bb/redis/client.hpp>
#include <bb/redis/cluster.hpp>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace bb {

/// One worker's limiter over a Redis server (`Store` = redis::client) or a Redis Cluster
/// (`Store` = redis::cluster).
template <transport Transport, clock Clock, class Store = redis::client<Transport, Clock>>
class redis_limiter final : public remote_limiter {
public:
  using client_type = redis::client<Transport, Clock>;
  static constexpr bool is_cluster = std::is_same_v<Store, redis::cluster<Transport, Clock>>;

  /// A limiter applying `config` (whose `redis` names the server, resolved) over `t` and
  /// `c`; `fallback` is the instance's in-memory limiter for on-error `local` (required
  /// then). `label` follows the server's address in log lines (" (worker 2)"); `breaker`
  /// tunes reconnection. Throws std::invalid_argument for parameters the scripts cannot
  /// compute exactly or a missing fallback.
  redis_limiter(Transport& t, Clock& c, rng random, const rate_limit_config& config, const logger& log,
                memory_limiter* fallback, std::string_view label = {}, redis::breaker_config breaker = {})
      : clock_(c),
        config_(config),
        params_(redis_script_params::of(config)),
        store_(make_store(t, c, random, config, log, label, breaker)),
        fallback_(fallback),
        log_(log),
        refusals_(65536, random()) {
    if (config.redis.on_error == rate_limit_on_error::local && !fallback_)
      throw std::invalid_argument("redis_limiter: on-error 'local' needs an in-memory limiter");
  }

  task<void> run() override { return store_.run(); }
  void stop() override { store_.stop(); }

  task<rate_decision> decide(const client_key& key, std::chrono::nanoseconds now) override {
    counters_.decisions.add();
    const auto sent = clock_.now();
    const auto local = since_epoch(sent);
    if (connects() != connects_seen_) {
      // A new connection may be to a server that lost its state (a restart): refusals it
      // gave before no longer hold there.
      connects_seen_ = connects();
      refusals_.clear();
    }
    if (auto d = refusals_.find(key, local)) {
      counters_.cached.add();
      co_return *d;
    }
    const std::string k = redis_key(config_.redis.prefix, config_.algorithm, key);
    client_type* node = node_for(k);
    if (!node || !node->ready()) co_return on_error(key, now);
    const auto deadline = sent + config_.redis.timeout;
    const std::string_view script = redis_script(config_.algorithm);
    bool eval = false, ask = false;
    for (int hops = 0;;) {
      redis::waiter w, asking;
      if (ask) node->send([](std::string& out) { redis::append_command(out, {"ASKING"}); }, asking, deadline);
      node->send(
          [&](std::string& out) { append_script_call(out, eval, eval ? script : node->script_sha(0), k, params_); }, w,
          deadline);
      const auto r = co_await w;
      if (ask) (void)co_await asking;  // answered first (or failed with the call): it lives in this frame
      if (!r) co_return on_error(key, now);
      if (!eval && r->is_error("NOSCRIPT")) {
        counters_.reloads.add();
        eval = true;
        continue;
      }
      if constexpr (is_cluster) {
        if (r->type == redis::reply::kind::error && hops < max_hops) {
          if (const auto to = store_.redirected(*r); to.node) {
            counters_.redirects.add();
            ++hops;
            node = to.node;
            ask = to.ask;
            continue;
          }
        }
      }
      const auto d = decision_of(*r);
      if (!d) {
        bad_reply(*r, node->config().name);
        co_return on_error(key, now);
      }
      counters_.from_redis.add();
      counters_.round_trip.record(std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now() - sent));
      if (!d->allowed && d->retry_after_ns > 0)
        refusals_.insert(key, local + std::chrono::nanoseconds(d->retry_after_ns),
                         local + std::chrono::nanoseconds(d->reset_after_ns), d->limit, local);
      co_return *d;
    }
  }

  /// What this limiter answered since it started.
  /// The connection (or cluster) underneath.
  [[nodiscard]] const Store& store() const noexcept { return store_; }

private:
  /// Redirections one decision follows at most (a MOVED, then an ASK during a migration).
  static constexpr int max_hops = 3;

  static Store make_store(Transport& t, Clock& c, rng random, const rate_limit_config& config, const logger& log,
                          std::string_view label, redis::breaker_config breaker) {
    auto cfg = client_config_of(config, label, breaker);
    if constexpr (is_cluster) return Store(t, c, random, std::move(cfg), config.redis.servers, log, std::string(label));
    else return Store(t, c, random, std::move(cfg), log);
  }

  client_type* node_for(std::string_view key) {
    if constexpr (is_cluster) return store_.node_for(key);
    else return &store_;
  }
  std::uint64_t connects() const {
    if constexpr (is_cluster) return store_.connects();
    else return store_.counters().connects;
  }

  static redis::client_config client_config_of(const rate_limit_config& c, std::string_view label,
                                               redis::breaker_config breaker) {
    if (c.redis.servers.empty()) throw std::invalid_argument("redis_limiter: no resolved Redis server");
    redis::client_config r;
    r.name = "redis " + c.redis.servers.front().to_string() + std::string(label);
    r.server = c.redis.servers.front();
    r.password = c.redis.url.password;
    r.db = c.redis.url.db;
    r.scripts.emplace_back(redis_script(c.algorithm));
    r.breaker = breaker;
    return r;
  }

  rate_decision on_error(const client_key& key, std::chrono::nanoseconds now) {
    counters_.on_error.add();
    switch (config_.redis.on_error) {
      case rate_limit_on_error::local: return fallback_->decide_now(key, now);
      case rate_limit_on_error::deny: {
        rate_decision d;
        d.allowed = false;
        d.limit = config_.limit;
        d.retry_after_ns = std::chrono::nanoseconds(std::chrono::seconds(1)).count();
        d.reset_after_ns = d.retry_after_ns;
        d.figures = false;
        return d;
      }
      case rate_limit_on_error::allow: break;
    }
    rate_decision d;
    d.allowed = true;
    d.limit = config_.limit;
    d.figures = false;
    return d;
  }

  /// An error reply (a full Redis, a key of another type) or a reply that is no decision:
  /// logged at most once per 10 s, with how many since the last line.
  void bad_reply(const redis::reply& r, const std::string& from) {
    counters_.bad_replies.add();
    ++bad_unlogged_;
    const auto now = clock_.now();
    if (bad_logged_ && now - *bad_logged_ < std::chrono::seconds(10)) return;
    bad_logged_ = now;
    log_.log(log_level::warn, (line{} << from << ": the rate-limit script answered "
                                      << (r.type == redis::reply::kind::error ? r.str : std::string("no decision"))
                                      << " (" << bad_unlogged_ << " such replies since the last line)")
                                  .s);
    bad_unlogged_ = 0;
  }

  Clock& clock_;
  const rate_limit_config& config_;
  redis_script_params params_;
  Store store_;
  memory_limiter* fallback_;
  const logger& log_;
  refusal_cache refusals_;
  std::uint64_t connects_seen_ = 0;
  std::optional<typename Clock::time_point> bad_logged_;
  std::uint64_t bad_unlogged_ = 0;
};

}  // namespace bb
