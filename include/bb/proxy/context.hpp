#pragma once
/// bb::proxy_context: what every session of one proxy worker shares, and the registry of
/// its sessions that timeouts and draining walk.

#include <bb/core/clock.hpp>
#include <bb/core/log.hpp>
#include <bb/core/random.hpp>
#include <bb/core/transport.hpp>
#include <bb/proxy/config.hpp>
#include <bb/proxy/exchange.hpp>
#include <bb/proxy/shared_state.hpp>
#include <bb/proxy/stats.hpp>
#include <bb/upstream/cluster.hpp>
#include <bb/upstream/pool.hpp>

#include <cstdint>
#include <stdexcept>

namespace bb {

/// Where a session is in its request cycle; each phase has its own deadline (the
/// proxy_config timeout named here) and its own way of ending when that passes.
enum class session_phase : std::uint8_t {
  idle,              ///< waiting for a request's first byte: client_idle_timeout (a new
                     ///< connection: client_header_timeout); then closed, silently
  client_read,       ///< reading a request head: client_header_timeout; then 408
  request_body,      ///< reading a request body from the client: body_idle_timeout; then
                     ///< 408 when nothing of a response went out, else closed
  upstream_connect,  ///< connecting to an upstream: bounded by its own connect timer
  upstream_io,       ///< sending to the upstream, reading a response body from it:
                     ///< body_idle_timeout; then 504 when nothing went to the client yet
  upstream_head,     ///< waiting for a response head: upstream_response_timeout from the
                     ///< request's end (one deadline for the whole head); then 504
  client_write,      ///< sending to the client: body_idle_timeout; then closed
  tunnel,            ///< relaying an upgraded connection (after a 101) both ways
  linger,            ///< after an answer that closes the connection while the client may
                     ///< still be sending: reading and dropping its bytes, linger_timeout
};

/// The part of a session the proxy reaches from outside: its deadline and how to cut it.
template <class TimePoint>
struct session_link {
  session_link* prev_ = nullptr;
  session_link* next_ = nullptr;
  TimePoint deadline_ = TimePoint::max();
  session_phase phase_ = session_phase::idle;
  bool timed_out_ = false;  ///< a deadline passed during the current request
  /// Ends whatever the session waits on (a close, or a cut that keeps the client's
  /// connection for a 408), so that the wait ends with an error.
  void (*expire_)(session_link*) noexcept = nullptr;
  /// True when the session is idle with nothing buffered: draining may close it at once.
  bool (*idle_)(const session_link*) noexcept = nullptr;
};

/// An intrusive list of the live sessions of one worker (no allocation per session).
template <class TimePoint>
class session_list {
public:
  using link = session_link<TimePoint>;
  void insert(link* s) noexcept {
    s->next_ = head_;
    if (head_) head_->prev_ = s;
    head_ = s;
    ++size_;
  }
  void erase(link* s) noexcept {
    if (s->prev_) s->prev_->next_ = s->next_;
    else head_ = s->next_;
    if (s->next_) s->next_->prev_ = s->prev_;
    s->prev_ = s->next_ = nullptr;
    --size_;
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Calls `f(link*)` for every session; `f` may not erase sessions other than its own.
  template <class F>
  void for_each(F&& f) {
    for (link* s = head_; s;) {
      link* next = s->next_;
      f(s);
      s = next;
    }
  }

private:
  link* head_ = nullptr;
  std::size_t size_ = 0;
};

/// The state one proxy worker's sessions share. Single-threaded: one per worker.
template <transport Transport, clock Clock>
struct proxy_context {
  using stream_type = typename Transport::stream;
  using time_point = typename Clock::time_point;

  proxy_context(Transport& t, Clock& c, rng r, const proxy_config& cfg, const logger& l, shared_state& s)
      : transport(t),
        clock(c),
        random(r),
        ids(r.split()),  // r is this constructor's copy: `random` draws the same as without ids
        config(cfg),
        log(l),
        shared(s),
        upstreams(s.upstreams),
        limiter(s.limiter && !cfg.rate_limit.redis.enabled() ? &*s.limiter : nullptr),
        remote(cfg.rate_limit.enabled() && cfg.rate_limit.redis.enabled() ? s.remote_limiter_for(&t) : nullptr),
        balance(s.balance),
        pool(s.upstreams.size(), cfg.upstream_pool_size),
        buffers(cfg.limits.max_head_bytes + 1024, 256),
        exchanges(cfg, buffers, 256),
        stats(s.upstreams.size()) {
    if (cfg.rate_limit.enabled() && cfg.rate_limit.redis.enabled() && !remote)
      throw std::invalid_argument("a Redis rate-limit store needs a remote limiter attached for every worker");
    // A pooled connection closed by its watch is the upstream's business, not its health's.
    pool.on_discard([this](std::size_t i, pool_discard why) {
      if (log.enabled(log_level::debug))
        log.log(log_level::debug, (line{} << "upstream " << upstreams.at(i).name
                                          << ": closed an idle pooled connection: " << to_string(why))
                                      .s);
    });
  }
  proxy_context(const proxy_context&) = delete;
  proxy_context& operator=(const proxy_context&) = delete;

  Transport& transport;
  Clock& clock;
  rng random;
  rng ids;  ///< draws request ids, apart from `random` so that ids change no balancing decision
  const proxy_config& config;
  const logger& log;
  shared_state& shared;  ///< what every worker of the process shares
  cluster& upstreams;
  memory_limiter* limiter;  ///< the in-memory store; null when requests are not limited or the store is remote
  remote_limiter* remote;   ///< this worker's remote store (Redis); null unless the store is remote
  balancer& balance;        ///< the process's balancing policy (in shared)
  connection_pool<stream_type> pool;
  // Room for a whole head at the limit plus some: the parser must see more than the limit
  // to say 431 rather than wait for bytes that can never fit.
  buffer_pool buffers;
  exchange_pool exchanges;
  proxy_stats stats;
  session_list<time_point> sessions;
  bool draining = false;
};

}  // namespace bb
