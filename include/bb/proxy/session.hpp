#pragma once
/// bb::session: one client connection, from its first request to its close.
///
/// Requests are read and answered strictly one after the other, so pipelined requests
/// are answered in order by construction. Each request goes to the upstream the balancer
/// picks; the forwarder (forwarder.hpp) streams it there and the response back.

#include <bb/core/client_key.hpp>
#include <bb/core/error.hpp>
#include <bb/core/task.hpp>
#include <bb/core/with_cancel.hpp>
#include <bb/http/error.hpp>
#include <bb/http/forwarded_for.hpp>
#include <bb/http/request_id.hpp>
#include <bb/http/request_parser.hpp>
#include <bb/http/serialize.hpp>
#include <bb/proxy/context.hpp>
#include <bb/proxy/io_buffer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bb {

template <transport Transport, clock Clock>
class forwarder;

/// Serves one client connection; owned by the proxy's scope for as long as it runs.
template <transport Transport, clock Clock>
class session : private session_link<typename Clock::time_point> {
public:
  using context_type = proxy_context<Transport, Clock>;
  using stream_type = typename Transport::stream;
  using link_type = session_link<typename Clock::time_point>;
  using time_point = typename Clock::time_point;

  session(context_type& ctx, stream_type client, const endpoint& peer)
      : ctx_(ctx), client_(std::move(client)), in_(ctx.buffers) {
    peer_ = peer.ip;
    this->expire_ = &session::expire_link;
    this->idle_ = &session::idle_link;
    ctx_.sessions.insert(this);
    ctx_.stats.open_connections.add(1);
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() {
    ctx_.stats.open_connections.add(-1);
    ctx_.sessions.erase(this);
    ctx_.exchanges.give(std::move(x_));
    client_.close();
  }

  /// Serves the connection `client` from `peer` until the client leaves, an error ends
  /// the connection, or the proxy drains; `slot` counts it among the process's open
  /// connections until then.
  // NOTE: static, with the session and the request loop in this one frame: an idle
  // keep-alive connection then costs one coroutine frame, not a frame per nested call.
  static task<void> serve(context_type& ctx, stream_type client, endpoint peer, [[maybe_unused]] connection_slot slot) {
    session s(ctx, std::move(client), peer);
    // A new connection has the header timeout, not the idle one, for its first request:
    // connecting and then saying nothing must not hold a connection for long.
    bool first = true;
    try {
      for (;;) {
        if (s.in_.empty()) {
          // Idle: wait for the client's next bytes holding no buffer and no exchange state.
          s.go_idle();
          if (first) s.enter(session_phase::idle, ctx.clock.now() + ctx.config.client_header_timeout);
          else s.enter(session_phase::idle);
          if (ctx.draining) break;
          // A deadline closes an idle connection without a response, as nginx does: no
          // request has begun, and a 408 there would race the client's next request.
          auto [ec, n] = co_await s.client_.read_some(std::span<char>{});
          if (ec || ctx.draining) break;
        }
        const auto st = co_await s.read_request_head(first);
        first = false;
        if (st == head_status::closed) break;
        if (st == head_status::timed_out) {
          co_await s.time_out_request("request head timed out");
          break;
        }
        ctx.stats.requests.add();
        const auto started = ctx.clock.now();
        if (st == head_status::bad) {
          ctx.stats.bad_requests.add();
          co_await s.refuse_request();
          s.count_duration(started);
          break;
        }
        s.stamp_request_id();
        if (ctx.limiter || ctx.remote) {
          const auto verdict = co_await s.admit();
          if (verdict != admission::admitted) s.count_duration(started);
          if (verdict == admission::refused_close) break;
          if (verdict == admission::refused_keep) continue;
        }
        const bool keep = co_await s.exchange();
        s.count_duration(started);
        if (!keep || ctx.draining) break;
      }
      if (s.linger_ && !ctx.draining) co_await s.linger();
    } catch (const std::exception& e) {
      // One connection's failure (out of memory, say) must not take the others down.
      ctx.log.log(log_level::error, (line{} << "session failed: " << e.what()).s);
    }
  }

  /// The client's address as text, formatted when needed rather than kept per connection.
  struct ip_text {
    std::array<char, 48> data;
    std::size_t size;
    operator std::string_view() const noexcept { return {data.data(), size}; }
  };

  /// What a forwarder may do with the session it works for, and nothing more: the narrow
  /// interface between the two (the forwarder is no friend of the session).
  class port {
  public:
    explicit port(session& s) noexcept : s_(&s) {}
    /// The worker's shared state.
    [[nodiscard]] context_type& context() const noexcept { return s_->ctx_; }
    /// The request's exchange state: parsed head, response buffer and parser, strings.
    [[nodiscard]] exchange_state& exchange() const noexcept { return *s_->x_; }
    /// The client's bytes: the request head (head_size() of them) and what follows it.
    [[nodiscard]] io_buffer& input() const noexcept { return s_->in_; }
    [[nodiscard]] std::size_t head_size() const noexcept { return s_->head_size_; }
    /// The client connection, to write the response to.
    [[nodiscard]] stream_type& client() const noexcept { return s_->client_; }
    /// Reads request body bytes from the client, cut (not closed) by the body deadline.
    [[nodiscard]] auto read_client(std::span<char> buf) const { return s_->read_cuttable(buf); }
    /// True once a deadline cut a client read (see session_phase::request_body).
    [[nodiscard]] bool read_cut() const noexcept { return s_->cut_.stop_requested(); }
    /// True once a deadline passed during this request.
    [[nodiscard]] bool timed_out() const noexcept { return s_->timed_out_; }
    /// Enters phase `p` with its deadline from now, or with the deadline `at`.
    void enter(session_phase p) const { s_->enter(p); }
    void enter(session_phase p, time_point at) const noexcept { s_->enter(p, at); }
    /// Shows the deadline sweep the upstream connection it may have to cut (or none).
    void watch_upstream(stream_type* upstream) const noexcept { s_->upstream_ = upstream; }
    /// The connection will close while the client may still be sending: linger first.
    void linger() const noexcept { s_->linger_ = true; }
    /// Sends one of the proxy's own responses; false when the write failed.
    [[nodiscard]] task<bool> answer(int status, std::string_view why, bool close) const {
      return s_->answer(status, why, close);
    }
    /// Answers 408 to a request too slow to arrive; the connection then closes.
    [[nodiscard]] task<void> time_out_request(std::string_view what) const { return s_->time_out_request(what); }
    /// The peer's address as text, for X-Forwarded-For and the log.
    [[nodiscard]] ip_text peer_ip() const noexcept { return s_->peer_ip(); }
    /// The request's client as rate limits and consistent hashing key it.
    [[nodiscard]] client_key request_client() const { return s_->request_client(); }

  private:
    session* s_;
  };

private:
  enum class head_status { ok, bad, closed, timed_out };
  enum class admission { admitted, refused_keep, refused_close };

  /// Forwards the parsed request. Its own coroutine, so the forwarder's state lives in a
  /// frame of its own while a request is under way, not in every idle session's.
  task<bool> exchange() {
    forwarder<Transport, Clock> f(port(*this));
    co_return co_await f.run();
  }

  /// Between requests with nothing buffered, a connection gives its buffer and exchange
  /// state back to the worker: an idle keep-alive connection costs only the session.
  void go_idle() noexcept {
    if (!in_.empty()) return;
    in_.release_if_empty();
    ctx_.exchanges.give(std::move(x_));
  }

  ip_text peer_ip() const noexcept {
    ip_text t;
    t.size = peer_.format(t.data.data());
    return t;
  }

  /// Enters phase `p` with that phase's deadline from now (see session_phase).
  void enter(session_phase p) {
    const auto& c = ctx_.config;
    if (p == session_phase::upstream_connect) return enter(p, time_point::max());  // with_timeout bounds it
    auto d = p == session_phase::idle            ? c.client_idle_timeout
             : p == session_phase::client_read   ? c.client_header_timeout
             : p == session_phase::upstream_head ? c.upstream_response_timeout
             : p == session_phase::tunnel        ? c.client_idle_timeout
                                                 : c.body_idle_timeout;
    enter(p, ctx_.clock.now() + d);
  }
  /// Enters phase `p` with the deadline `at` (one deadline across several waits).
  void enter(session_phase p, time_point at) noexcept {
    this->phase_ = p;
    this->deadline_ = at;
  }

  /// Reads one request head; the client has sent at least one byte of it, or the
  /// socket is readable. The first request's deadline runs from the accept (it is the
  /// idle phase's), a later one's from now.
  task<head_status> read_request_head(bool first) {
    if (!x_) x_ = ctx_.exchanges.take();
    x_->req_parser.reset();
    x_->rate_headers.clear();  // a previous request's; an answer to this one has none yet
    head_request_ = false;
    this->timed_out_ = false;
    if (first) enter(session_phase::client_read, this->deadline_);
    else enter(session_phase::client_read);
    for (;;) {
      if (!in_.empty()) {
        auto r = x_->req_parser.feed(in_.readable(), x_->req);
        // A read that raced the deadline may complete a head after the cut: still late.
        if (cut_.stop_requested()) co_return head_status::timed_out;
        if (r.st == http::parse_state::done) {
          head_size_ = r.head_size;
          head_request_ = x_->req.is_head();
          co_return head_status::ok;
        }
        if (r.st == http::parse_state::failed) {
          error_ = r.ec;
          co_return head_status::bad;
        }
      }
      auto room = in_.writable();
      if (room.empty()) {  // unreachable while the parser enforces the limit; never spin
        error_ = http::error::header_too_large;
        co_return head_status::bad;
      }
      auto [ec, n] = co_await read_cuttable(room);
      if (ec) {
        if (cut_.stop_requested() && !in_.empty()) co_return head_status::timed_out;
        if (!in_.empty() && ctx_.log.enabled(log_level::debug))
          ctx_.log.log(log_level::debug, (line{} << peer_ip() << " closed mid-request: " << ec.message()).s);
        co_return head_status::closed;
      }
      in_.commit(n);
    }
  }

  /// Reads from the client so that a passing deadline cuts the read but not the
  /// connection (a 408 can still be sent); the phase must be one that cuts.
  // NOTE: a frame per read, but only while a request is under way: an idle session's
  // frame holds no awaiter for it.
  detail::with_cancel_awaiter<io_result> read_cuttable(std::span<char> buf) {
    return with_cancel(read_client(buf), cut_);
  }
  task<io_result> read_client(std::span<char> buf) {
    cuttable_ = true;
    const auto r = co_await client_.read_some(buf);
    cuttable_ = false;
    co_return r;
  }

  /// Answers 408 to a client that was too slow to send its request, on a connection that
  /// then closes: the request's bytes can no longer be told from the next one's.
  task<void> time_out_request(std::string_view what) {
    if (ctx_.log.enabled(log_level::info))
      ctx_.log.log(log_level::info, (line{} << peer_ip() << ' ' << what << " -> 408").s);
    co_await answer(408, what, true);
  }

  /// Before closing a connection whose client may still be sending (see
  /// proxy_config::linger_timeout): shuts down the sending side, so the client reads the
  /// answer and then an end, and drops what it sends until it closes or the time is up.
  task<void> linger() {
    if (client_.shutdown()) co_return;
    enter(session_phase::linger, ctx_.clock.now() + ctx_.config.linger_timeout);
    for (;;) {
      in_.consume(in_.readable().size());
      auto [ec, n] = co_await client_.read_some(in_.writable());
      if (ec) break;
      in_.commit(n);
    }
  }

  /// Answers a request whose framing cannot be trusted, then the connection closes.
  task<void> refuse_request() {
    linger_ = true;
    const int status = http::status_for(error_);
    if (ctx_.log.enabled(log_level::warn))
      ctx_.log.log(log_level::warn,
                   (line{} << peer_ip() << " bad request: " << error_.message() << " -> " << status).s);
    co_await answer(status, error_.message(), true);
  }

  /// Asks the rate limiter about the parsed request; a refused one is answered 429 here
  /// and never reaches an upstream. Every response then carries the X-RateLimit headers
  /// (unless the store was unavailable and the on-error policy answered).
  task<admission> admit() {
    const auto now = since_epoch(ctx_.clock.now());
    // NOTE: the in-memory store is a direct call that never suspends; only a remote one
    // costs a coroutine frame (and a round trip).
    rate_decision d;
    if (ctx_.limiter) d = ctx_.limiter->decide_now(request_client(), now);
    else d = co_await ctx_.remote->decide(request_client(), now);
    auto& rate_headers = x_->rate_headers;  // the id's line is there already: append
    line h{std::move(rate_headers)};
    if (d.figures)
      h << "X-RateLimit-Limit: " << d.limit << "\r\nX-RateLimit-Remaining: " << d.remaining
        << "\r\nX-RateLimit-Reset: " << whole_seconds_up(d.reset_after_ns) << "\r\n";
    if (!d.allowed) h << "Retry-After: " << whole_seconds_up(d.retry_after_ns) << "\r\n";
    rate_headers = std::move(h.s);
    (d.allowed ? ctx_.stats.rate_allowed : ctx_.stats.rate_limited).add();
    if (d.allowed) co_return admission::admitted;
    // The body of a refused request is not read: its bytes would be taken for the next
    // request, so a request with a body costs its connection.
    const auto& req = x_->req;
    const bool keep = req.keep_alive && req.body == http::body_kind::none && !ctx_.draining;
    if (ctx_.log.enabled(log_level::info))
      ctx_.log.log(log_level::info, (line{} << peer_ip() << " \"" << req.method << ' ' << req.target
                                            << "\" 429 rate-limited id=" << x_->request_id)
                                        .s);
    in_.consume(head_size_);
    const bool sent = co_await answer(429, "too many requests", !keep);
    if (!(sent && keep)) linger_ = req.body != http::body_kind::none;  // its body is not read
    co_return sent&& keep ? admission::refused_keep : admission::refused_close;
  }

  /// The client of the parsed request as the rate limit and consistent hashing key it:
  /// the peer, or whom a trusted proxy's X-Forwarded-For names (http/forwarded_for.hpp),
  /// IPv6 cut to the configured prefix.
  client_key request_client() const {
    const auto& ids = ctx_.config.clients;
    return client_key_of(http::client_address(peer_, x_->req.headers, ids.trusted_proxies), ids.ipv6_prefix);
  }

  /// Gives the parsed request its id, the client's one X-Request-Id when valid, else a new
  /// one from the worker's id generator, and makes it the first extra line of every
  /// response to the request.
  void stamp_request_id() {
    auto& x = *x_;
    x.request_id.clear();
    std::string_view theirs;
    int fields = 0;
    for (const auto& f : x.req.headers)
      if (http::iequals(f.name, "x-request-id")) theirs = f.value, ++fields;
    if (fields == 1 && http::valid_request_id(theirs)) x.request_id.assign(theirs);
    else http::append_request_id(x.request_id, ctx_.ids(), ctx_.ids());
    x.rate_headers.assign("X-Request-Id: ").append(x.request_id).append("\r\n");
  }

  /// Counts the time from `started` (a request head's arrival) to now as one request's.
  void count_duration(time_point started) noexcept {
    ctx_.stats.request_duration.record(
        std::chrono::duration_cast<std::chrono::nanoseconds>(ctx_.clock.now() - started));
  }

  /// Sends one of the proxy's own responses.
  task<bool> answer(int status, std::string_view message, bool close) {
    std::string r =
        http::make_error_response(status, message, close, x_ ? std::string_view(x_->rate_headers) : "", head_request_);
    enter(session_phase::client_write);
    const_buffer b[] = {{r.data(), r.size()}};
    auto [ec, n] = co_await client_.write(b);
    ctx_.stats.responses[status / 100].add();
    ctx_.stats.own(status);
    co_return !ec;
  }

  static void expire_link(link_type* l) noexcept {
    auto* s = static_cast<session*>(l);
    s->timed_out_ = true;
    const auto p = s->phase_;
    if ((p == session_phase::client_read || p == session_phase::request_body) && s->cuttable_) {
      s->cut_.request_stop();  // the read ends, the connection stays: a 408 can still go out
      return;
    }
    if (s->phase_ == session_phase::tunnel && s->upstream_) s->upstream_->close();  // a tunnel waits on both
    const bool upstream_side = p == session_phase::upstream_io || p == session_phase::upstream_head;
    if (upstream_side && s->upstream_) s->upstream_->close();
    else s->client_.close();
  }
  static bool idle_link(const link_type* l) noexcept {
    auto* s = static_cast<const session*>(l);
    // A lingering connection has answered already: a drain need not wait for it either.
    return (s->phase_ == session_phase::idle && s->in_.empty()) || s->phase_ == session_phase::linger;
  }

  context_type& ctx_;
  stream_type client_;
  stream_type* upstream_ = nullptr;  // the forwarder's upstream connection, for deadlines to cut
  ip_address peer_;
  io_buffer in_;
  std::unique_ptr<exchange_state> x_;  // held from a request's first byte until idle again
  std::size_t head_size_ = 0;
  std::error_code error_;
  cancel_source cut_;          // stopped by a deadline that cuts a client read (see expire_link)
  bool cuttable_ = false;      // a client read under cut_ is pending
  bool linger_ = false;        // an answer closes the connection while the client may still send
  bool head_request_ = false;  // the request being answered is a HEAD: answers carry no body
};

}  // namespace bb

#include <bb/proxy/forwarder.hpp>
