#pragma once
/// bb::forwarder: one request's exchange with an upstream, on behalf of a session.
///
/// It sends the request head (edited: hop-by-hop headers out, X-Forwarded-For in) and
/// streams the body through the session's bounded buffer, then streams the response
/// back the same way, so a body of any size passes in constant memory. A request that
/// found its pooled connection closed before any response byte is sent once more on a
/// fresh connection, but only when it is idempotent and had no body to resend. A 101 to
/// a request that asked to upgrade turns the exchange into a tunnel (splice.hpp); an
/// HTTP/1.0 client gets a chunked body de-chunked (http::dechunks_for).

#include <bb/core/scope.hpp>
#include <bb/core/timeout.hpp>
#include <bb/http/body.hpp>
#include <bb/lb/pick_context.hpp>
#include <bb/lb/tried_set.hpp>
#include <bb/proxy/access_log.hpp>
#include <bb/proxy/retry.hpp>
#include <bb/proxy/session.hpp>
#include <bb/proxy/splice.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace bb {

/// True for the methods RFC 9110 §9.2.2 calls idempotent.
inline bool is_idempotent(std::string_view m) noexcept {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

template <transport Transport, clock Clock>
class forwarder {
public:
  using session_type = session<Transport, Clock>;
  using stream_type = typename Transport::stream;

  /// A forwarder for the request `s` has parsed.
  explicit forwarder(typename session_type::port s) noexcept : s_(s), ctx_(s.context()) {}
  forwarder(const forwarder&) = delete;
  forwarder& operator=(const forwarder&) = delete;
  ~forwarder() {
    finish_attempt();
    s_.watch_upstream(nullptr);
  }

  /// Forwards the session's parsed request; true when the client connection can carry
  /// another request.
  task<bool> run() {
    const auto started = ctx_.clock.now();
    const auto& req = s_.exchange().req;
    // Everything needed after the head's bytes are gone is taken now.
    client_keep_ = req.keep_alive;
    client_ver_ = req.ver;
    head_request_ = req.is_head();
    has_body_ = req.body != http::body_kind::none;
    upgrade_ = http::wants_upgrade(req);
    const bool idempotent = is_idempotent(req.method);
    // consistent-hash keys on the client a rate limit would apply to (read while the head
    // is still in the buffer); the other policies never look at it.
    const client_key client =
        ctx_.balance.policy() == balance_policy::consistent_hash ? s_.request_client() : client_key{};
    const bool expect_continue = req.expect_continue && has_body_;
    body_ = http::body_framer::for_head(req.body, req.content_length, ctx_.config.limits.max_body_bytes);
    if (ctx_.log.enabled(log_level::info)) (request_line_ = req.method) += ' ', request_line_ += req.target;
    out_.clear();
    http::append_forwarded_request(out_, req, s_.peer_ip(), false, s_.exchange().request_id);
    s_.input().consume(s_.head_size());

    if (expect_continue) {
      // Answer 100 here so the client's body can flow while the head goes upstream.
      static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
      const_buffer b[] = {{cont.data(), cont.size()}};
      s_.enter(session_phase::client_write);
      const auto w = co_await s_.client().write(b);
      if (w.ec) co_return false;
      sent_continue_ = true;
    }

    // Each attempt goes to a live host not tried yet; a host whose connect fails is
    // ejected (the passive check). Whether a failed attempt moves on, retries fresh, or
    // ends in 502/504 is decide_retry's call (proxy/retry.hpp), from the facts below.
    const bool passive_retry = !ctx_.config.health.active();
    tried_set tried(ctx_.upstreams.size());
    attempt_facts facts;
    facts.idempotent = idempotent;
    facts.has_body = has_body_;
    facts.budget = retry_budget(ctx_.upstreams.size());
    facts.attempts = 0;
    std::optional<std::size_t> fresh_on;  // the next attempt's host, on a new connection
    std::optional<std::size_t> retry_of;  // the host whose failed attempt the next one retries
    bool keep = false;
    for (;;) {
      finish_attempt();
      if (fresh_on) {
        upstream_ = *std::exchange(fresh_on, std::nullopt);
        facts.reused = false;
      } else {
        // With active checks off, a down host whose backoff is over gets exactly one request
        // (its probe), whatever the policy would pick; to every other request it is down.
        probe_ = false;
        auto pick = passive_retry ? claim_probe(tried) : std::nullopt;
        if (pick) probe_ = true;
        else pick = ctx_.balance.pick(pick_context{ctx_.upstreams, ctx_.random, now(), false, tried, client});
        if (!pick) {
          keep = co_await fail(502, "no live upstream", errc::no_upstream);
          break;
        }
        upstream_ = *pick;
        facts.reused = false;
        if (auto pooled = ctx_.pool.take(upstream_, ctx_.upstreams.comebacks(upstream_))) {
          attach(std::move(*pooled));
          facts.reused = true;
        }
      }
      // A retry counts once it is made (a retry that finds no host is not one).
      if (retry_of) ctx_.stats.upstream[*std::exchange(retry_of, std::nullopt)].retries.add();
      start_attempt();
      ++facts.attempts;
      std::optional<attempt_failure> failure;
      if (!conn_) {
        if (auto ec = co_await connect()) {
          eject(ec);
          error_ = ec;
          failure = attempt_failure::connect_failed;
        }
      }
      if (!failure) {
        const auto got = co_await send_request();
        if (got == outcome::client_gone) break;
        if (got == outcome::client_timeout) {  // the body stalled: nothing of a response went out
          drop_upstream();
          status_ = 408;
          co_await s_.time_out_request("request body timed out");
          break;
        }
        if (got == outcome::bad_body) {
          ctx_.stats.bad_requests.add();
          status_ = http::status_for(error_);
          s_.linger();  // the client may still be sending the rest of that body
          co_await s_.answer(status_, error_.message(), true);
          break;
        }
        if (got == outcome::ok) {
          head_arrived();
          if (passive_retry && ctx_.upstreams.restore(upstream_)) log_state(true, "answered a request");
          keep = co_await relay_response();
          // An early answer ended the upload: what the client still sends is not read.
          if (!body_.done()) s_.linger();
          break;
        }
        // A deadline that passed closed the connection under us: that is the failure.
        failure = got == outcome::unsent  ? attempt_failure::unsent
                  : s_.timed_out()        ? attempt_failure::timed_out
                  : got == outcome::stale ? attempt_failure::closed_early
                                          : attempt_failure::broken;
      }
      drop_upstream();
      // A pooled connection found closed, or one that took nothing, is nobody's fault.
      if (*failure == attempt_failure::broken || *failure == attempt_failure::timed_out) attempt_ok_ = false;
      if (*failure == attempt_failure::timed_out) ctx_.stats.upstream[upstream_].timeouts.add();
      facts.failure = *failure;
      facts.client_saw_response = sent_to_client_;
      // A stale pooled connection earns a fresh one on its host only while that host is up.
      facts.host_down = !ctx_.upstreams.live(upstream_, now(), false);
      const auto next = decide_retry(facts);
      if (next == retry_action::same_host_fresh || next == retry_action::other_host) retry_of = upstream_;
      if (next == retry_action::same_host_fresh) {
        facts.fresh_retry_used = true;
        fresh_on = upstream_;
        continue;
      }
      if (next == retry_action::other_host) {
        if (*failure == attempt_failure::closed_early || *failure == attempt_failure::broken)
          ctx_.stats.upstream_errors.add();
        tried.add(upstream_);
        continue;
      }
      if (next == retry_action::answer_504) keep = co_await fail(504, "upstream timed out", errc::timed_out);
      else if (*failure == attempt_failure::connect_failed) keep = co_await fail(502, "connect failed", error_);
      else keep = co_await fail(502, "bad response from upstream", error_ ? error_ : errc::upstream_closed);
      break;
    }
    drop_upstream();
    finish_attempt();
    s_.exchange().resp.consume(s_.exchange().resp.size());
    s_.exchange().resp.release_if_empty();
    log_exchange(started);
    co_return keep;
  }

private:
  enum class outcome { ok, client_gone, client_timeout, bad_body, stale, broken, unsent };

  /// Connects to the picked upstream within the connect timeout; an error when it fails.
  task<std::error_code> connect() {
    s_.enter(session_phase::upstream_connect);
    auto r = co_await with_timeout(ctx_.clock, ctx_.config.upstream_connect_timeout, connect_task());
    if (!r) co_return errc::timed_out;
    if (!*r) co_return r->error();
    attach(std::move(r->value()));
    co_return std::error_code{};
  }
  task<result<stream_type>> connect_task() {
    co_return co_await ctx_.transport.connect(ctx_.upstreams.at(upstream_).address);
  }

  /// Sends the request (head and body) and reads the response head: `ok` when a final head
  /// is parsed (read_response_head), else what went wrong. A body the first write did not
  /// finish streams on while the upstream is listened to (upload()).
  task<outcome> send_request() {
    auto& in = s_.input();
    const auto before = body_;  // to rewind when the first write sends nothing
    auto step = body_.consume(in.readable());
    if (step.ec) co_return (error_ = step.ec, outcome::bad_body);
    s_.enter(session_phase::upstream_io);
    const_buffer first[] = {{out_.data(), out_.size()}, {in.readable().data(), step.used}};
    auto w = co_await conn_->write(first);
    if (w.ec && w.bytes == 0) co_return (body_ = before, error_ = w.ec, outcome::unsent);
    in.consume(step.used);
    if (w.ec) co_return (error_ = w.ec, outcome::stale);
    if (!body_.done()) co_return co_await upload();
    // The upstream has the whole request: the response timeout runs from here.
    response_deadline_ = ctx_.clock.now() + ctx_.config.upstream_response_timeout;
    co_return co_await read_response_head();
  }

  /// What the two halves of an upload report to each other (see upload()).
  struct upload_state {
    cancel_source pump_stop;    ///< stopped when the response makes the rest of the body moot
    cancel_source listen_stop;  ///< stopped when the client's side failed
    outcome pumped = outcome::ok;
    outcome heard = outcome::ok;
    bool pumping = true;  ///< the pump owns the session's phase until it ends
  };
  struct stop_both {
    upload_state* u;
    void operator()() const noexcept {
      u->pump_stop.request_stop();
      u->listen_stop.request_stop();
    }
  };

  /// Streams the rest of the request body (pump_body()) while reading the upstream
  /// (listen()), so that an upstream that answers before it has the whole body (413, 401,
  /// a redirect) is heard at once rather than after the client has uploaded everything
  /// (RFC 9112 §9.5). A final answer of 300 or more, or one that closes, ends the upload:
  /// it is relayed, the upstream connection is not reused and the client's is closed after
  /// a linger. A 1xx-2xx answer that keeps the connection is relayed once the body is sent
  /// (the upstream wants it). When the pump fails on the upstream's side, what the
  /// upstream said before it stopped reading is still heard (a 413 with a reset after it).
  task<outcome> upload() {
    upload_state u;
    cancel_callback<stop_both> link(co_await get_cancel_token(), stop_both{&u});
    scope both;
    both.spawn(pump(u), u.pump_stop.token());
    both.spawn(listen(u), u.listen_stop.token());
    co_await both.join();
    if (u.listen_stop.stop_requested()) co_return u.pumped;  // the client's side failed (or we were cancelled)
    if (u.heard != outcome::ok) co_return u.heard == outcome::stale ? outcome::broken : u.heard;
    if (!body_.done() && ctx_.log.enabled(log_level::debug))
      ctx_.log.log(log_level::debug,
                   (line{} << "upstream " << ctx_.upstreams.at(upstream_).name << " answered "
                           << s_.exchange().resp_head.status << " before the request body was sent: upload stopped")
                       .s);
    co_return outcome::ok;
  }

  /// The upload's sending half: the rest of the body, then the response phase begins.
  task<void> pump(upload_state& u) {
    u.pumped = co_await pump_body();
    u.pumping = false;
    if (u.pump_stop.stop_requested()) co_return;  // the answer made the rest moot
    if (u.pumped == outcome::ok || u.pumped == outcome::broken) {
      // Whole, the response timeout runs from here; broken off by the upstream, what it
      // said before has to come within that time too.
      response_deadline_ = ctx_.clock.now() + ctx_.config.upstream_response_timeout;
      s_.enter(session_phase::upstream_head, response_deadline_);
      co_return;
    }
    u.listen_stop.request_stop();  // the client's side failed: the response no longer matters
  }

  /// The upload's listening half: the response head, and whether it ends the upload.
  task<void> listen(upload_state& u) {
    u.heard = co_await read_response_head(&u.pumping);
    if (u.listen_stop.stop_requested() || !u.pumping) co_return;
    const auto& h = s_.exchange().resp_head;
    const bool wants_rest = u.heard == outcome::ok && h.status < 300 && h.keep_alive;
    if (!wants_rest) u.pump_stop.request_stop();
  }

  /// Streams the request body from the client to the upstream until its framing ends.
  task<outcome> pump_body() {
    auto& in = s_.input();
    while (!body_.done()) {
      s_.enter(session_phase::request_body);
      auto [ec, n] = co_await s_.read_client(in.writable());
      // Cut, or read in the same tick as the cut: late either way.
      if (s_.read_cut()) co_return outcome::client_timeout;
      if (ec) co_return outcome::client_gone;
      in.commit(n);
      const auto step = body_.consume(in.readable());
      if (step.ec) co_return (error_ = step.ec, outcome::bad_body);
      s_.enter(session_phase::upstream_io);
      const_buffer more[] = {{in.readable().data(), step.used}};
      const auto w = co_await conn_->write(more);
      in.consume(step.used);
      if (w.ec) co_return (error_ = w.ec, outcome::broken);
    }
    co_return outcome::ok;
  }

  /// Reads until a final (non-1xx) response head is parsed, or a 101 to a request that
  /// asked to upgrade (RFC 9110 §15.2.2: a 101 to any other is broken); interim 1xx
  /// responses are passed to an HTTP/1.1 client, except a 100 when the proxy sent its own.
  /// While `*pumping` (an upload under way), the pump owns the session's phase and this
  /// sets none.
  task<outcome> read_response_head(const bool* pumping = nullptr) {
    auto& buf = s_.exchange().resp;
    auto phase = [&](session_phase p, auto... at) {
      if (!pumping || !*pumping) s_.enter(p, at...);
    };
    bool any = false;
    s_.exchange().resp_parser.reset();
    for (;;) {
      if (!buf.empty()) {
        auto r = s_.exchange().resp_parser.feed(buf.readable(), s_.exchange().resp_head, head_request_);
        if (r.st == http::parse_state::failed) co_return (error_ = r.ec, outcome::broken);
        if (r.st == http::parse_state::done) {
          const auto& h = s_.exchange().resp_head;
          if (h.status >= 200 || (h.status == 101 && upgrade_)) co_return (resp_head_size_ = r.head_size, outcome::ok);
          if (h.status == 101) co_return (error_ = http::error::bad_status_line, outcome::broken);
          if (client_ver_ == http::version::http11 && !(h.status == 100 && sent_continue_)) {
            out_.clear();
            http::append_forwarded_response(out_, h, true, client_ver_);
            const_buffer b[] = {{out_.data(), out_.size()}};
            phase(session_phase::client_write);
            const auto w = co_await s_.client().write(b);
            if (w.ec) co_return outcome::client_gone;
            sent_to_client_ = true;
          }
          buf.consume(r.head_size);
          s_.exchange().resp_parser.reset();
          continue;
        }
      }
      phase(session_phase::upstream_head, response_deadline_);
      auto [ec, n] = co_await conn_->read_some(buf.writable());
      if (ec) co_return (error_ = ec, any ? outcome::broken : outcome::stale);
      any = true;
      buf.commit(n);
    }
  }

  /// Streams the response head and body to the client; true when both connections are
  /// still in step (the client's can be kept). A 101 turns the exchange into a tunnel.
  task<bool> relay_response() {
    auto& buf = s_.exchange().resp;
    const auto& h = s_.exchange().resp_head;
    status_ = h.status;
    if (status_ == 101) co_return co_await tunnel();
    const bool upstream_keep = h.keep_alive;
    // A de-chunked body ends where the connection does: its length is not known up front.
    const bool dechunk = http::dechunks_for(h, client_ver_);
    const bool keep =
        client_keep_ && body_.done() && !ctx_.draining && h.body != http::body_kind::until_close && !dechunk;
    auto body = http::body_framer::for_head(h.body, h.content_length);
    // The body bytes buffered now: passed on as they are (`raw` of them), or, de-chunked,
    // their payload copied after whatever out_ holds.
    std::size_t raw = 0;
    auto take = [&] {
      auto step = dechunk ? body.consume(buf.readable(), [&](std::string_view p) { out_.append(p); })
                          : body.consume(buf.readable());
      raw = dechunk ? 0 : step.used;
      return step;
    };
    out_.clear();
    http::append_forwarded_response(out_, h, keep, client_ver_, s_.exchange().rate_headers);
    buf.consume(resp_head_size_);  // the head's views are not used past this point
    auto step = take();
    s_.enter(session_phase::client_write);
    const_buffer first[] = {{out_.data(), out_.size()}, {buf.readable().data(), raw}};
    auto w = co_await s_.client().write(first);
    buf.consume(step.used);
    ctx_.stats.responses[status_ / 100].add();
    if (w.ec) co_return false;
    while (!body.done() && !step.ec) {
      s_.enter(session_phase::upstream_io);
      auto [ec, n] = co_await conn_->read_some(buf.writable());
      if (ec) {
        if (body.is_until_close() && ec == errc::eof) break;  // the normal end of such a body
        log_broken(ec);
        co_return false;  // the client saw part of a response: only closing tells it
      }
      buf.commit(n);
      out_.clear();
      step = take();
      if (out_.empty() && raw == 0) {  // framing bytes only (a chunk-size line, say)
        buf.consume(step.used);
        continue;
      }
      s_.enter(session_phase::client_write);
      const_buffer more[] = {{out_.data(), out_.size()}, {buf.readable().data(), raw}};
      w = co_await s_.client().write(more);
      buf.consume(step.used);
      if (w.ec) co_return false;
    }
    if (step.ec) {
      log_broken(step.ec);
      co_return false;
    }
    // Pooled only in step: the request went whole, the response came whole, nothing after.
    if (upstream_keep && body.done() && buf.empty() && body_.done()) {
      ctx_.pool.give_back(upstream_, std::move(*conn_), now(), ctx_.upstreams.comebacks(upstream_));
      conn_.reset();
      s_.watch_upstream(nullptr);
    }
    co_return keep;
  }

  /// Relays the 101 head, then bytes both ways (bb::splice) until both sides have closed,
  /// either fails, or the tunnel goes quiet past its deadline; the client's connection
  /// closes after, and the upstream's is never pooled.
  task<bool> tunnel() {
    auto& from_upstream = s_.exchange().resp;
    out_.clear();
    http::append_forwarded_response(out_, s_.exchange().resp_head, false, client_ver_, s_.exchange().rate_headers);
    from_upstream.consume(resp_head_size_);  // what follows the 101 head is the new protocol's
    s_.enter(session_phase::tunnel);
    const_buffer head[] = {{out_.data(), out_.size()}, {from_upstream.readable().data(), from_upstream.size()}};
    const auto w = co_await s_.client().write(head);
    from_upstream.consume(from_upstream.size());
    ctx_.stats.responses[1].add();
    if (w.ec) co_return false;
    // Client bytes after the request head and body (in s_.input()) belong to the tunnel.
    co_await splice(s_.client(), *conn_, s_.input(), from_upstream, [this] { s_.enter(session_phase::tunnel); });
    co_return false;
  }

  /// Answers the client with the proxy's own error when nothing of a response was sent.
  task<bool> fail(int status, std::string_view why, std::error_code ec) {
    ctx_.stats.upstream_errors.add();
    status_ = status;
    if (ctx_.log.enabled(log_level::warn))
      ctx_.log.log(
          log_level::warn,
          (line{} << "upstream " << ctx_.upstreams.at(upstream_).name << ": " << why << ": " << ec.message()).s);
    drop_upstream();
    // The client's connection stays in step only when its request body went by whole; if
    // it did not, the client may still be sending it: linger before the close.
    const bool keep = client_keep_ && body_.done() && !ctx_.draining;
    if (!body_.done()) s_.linger();
    co_return co_await s_.answer(status, why, !keep) && keep;
  }

  /// The passive check: a host that refused, reset or timed out a connect is dead to
  /// every worker until an active check (or, with those off, a backoff) says otherwise.
  void eject(std::error_code ec) {
    ctx_.stats.upstream_errors.add();
    ctx_.stats.upstream[upstream_].connect_errors.add();
    attempt_ok_ = false;
    const auto& h = ctx_.config.health;
    if (!ctx_.upstreams.eject(upstream_, now(), h.passive_backoff, h.passive_backoff_max, probe_)) return;
    ctx_.pool.drop(upstream_);
    log_state(false, (line{} << "connect failed: " << ec.message()).s);
  }

  /// A down host whose backoff is over and whose probe this request claims (active checks
  /// off), or nullopt.
  std::optional<std::size_t> claim_probe(const tried_set& tried) {
    const auto& h = ctx_.config.health;
    for (std::size_t i = 0; i < ctx_.upstreams.size(); ++i)
      if (!tried.contains(i) && ctx_.upstreams.claim_retry(i, now(), h.passive_backoff, h.passive_backoff_max))
        return i;
    return std::nullopt;
  }

  void log_state(bool up, std::string_view why) {
    ctx_.log.log(up ? log_level::info : log_level::warn, (line{} << "upstream " << ctx_.upstreams.at(upstream_).name
                                                                 << " is " << (up ? "up" : "down") << ": " << why)
                                                             .s);
  }

  /// The proxy clock's time, in the form it crosses module boundaries (core/clock.hpp).
  std::chrono::nanoseconds now() const { return since_epoch(ctx_.clock.now()); }

  /// Tells the balancer an attempt on upstream_ begins (it counts as in flight from here,
  /// connecting included).
  void start_attempt() {
    ctx_.balance.on_start(upstream_);
    ctx_.stats.upstream[upstream_].attempts.add();
    ctx_.stats.upstream[upstream_].in_flight.add(1);
    attempt_ = true;
    attempt_ok_ = true;
    attempt_start_ = now();
    attempt_latency_.reset();
  }

  /// The response head came: the latency the balancer learns, and whether it was a 5xx.
  void head_arrived() {
    attempt_latency_ = now() - attempt_start_;
    attempt_ok_ = s_.exchange().resp_head.status < 500;
    auto& u = ctx_.stats.upstream[upstream_];
    u.responses[s_.exchange().resp_head.status / 100].add();
    u.response_duration.record(*attempt_latency_);
  }

  /// Ends the current attempt for the balancer, once, on every path (the destructor too):
  /// it is out of flight, and its latency is the time to the head, or to the end when no
  /// head came. A client that left before the head costs the upstream nothing.
  void finish_attempt() noexcept {
    if (!attempt_) return;
    attempt_ = false;
    ctx_.stats.upstream[upstream_].in_flight.add(-1);
    const auto t = now();
    ctx_.balance.on_finish(upstream_, attempt_result{attempt_latency_.value_or(t - attempt_start_), attempt_ok_, t});
  }

  /// Makes `s` the connection of this exchange, where the session's deadlines can cut it.
  void attach(stream_type&& s) {
    conn_.emplace(std::move(s));
    s_.watch_upstream(&*conn_);
  }

  /// Closes this attempt's upstream connection, and forgets what it sent: bytes a broken
  /// upstream left in the buffer must not be parsed as the next attempt's response.
  void drop_upstream() noexcept {
    if (conn_) {
      conn_->close();
      conn_.reset();
    }
    s_.watch_upstream(nullptr);
    s_.exchange().resp.consume(s_.exchange().resp.size());
  }

  void log_broken(std::error_code ec) {
    ctx_.stats.upstream_errors.add();
    if (!ctx_.log.enabled(log_level::warn)) return;
    line l;
    l << "upstream " << ctx_.upstreams.at(upstream_).name << " broke off a response: ";
    // The body idle deadline ends the read by closing the socket: say why, not "cancelled".
    if (s_.timed_out())
      l << "no bytes for "
        << std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.config.body_idle_timeout).count()
        << " ms (--body-idle-timeout)";
    else l << ec.message();
    ctx_.log.log(log_level::warn, l.s);
  }

  void log_exchange(typename Clock::time_point started) {
    if (!ctx_.log.enabled(log_level::info)) return;
    line l;
    append_access(
        l,
        access_entry{
            .client = s_.peer_ip(),
            .request_line = request_line_,
            .status = status_,
            .upstream = ctx_.upstreams.at(upstream_).name,
            .duration_us = std::chrono::duration_cast<std::chrono::microseconds>(ctx_.clock.now() - started).count(),
            .request_id = s_.exchange().request_id},
        ctx_.config.access_log);
    ctx_.log.log(log_level::info, l.s);
  }

  typename session_type::port s_;
  typename session_type::context_type& ctx_;
  std::optional<stream_type> conn_;  // the upstream connection of this exchange
  http::body_framer body_ = http::body_framer::none();
  std::string& out_ = s_.exchange().out;
  std::string& request_line_ = s_.exchange().request_line;
  std::error_code error_;
  std::size_t upstream_ = 0;
  std::size_t resp_head_size_ = 0;
  std::chrono::nanoseconds attempt_start_{0};
  std::optional<std::chrono::nanoseconds> attempt_latency_;  // to the response head, once it came
  bool attempt_ = false;                                     // an attempt on upstream_ is counted by the balancer
  bool attempt_ok_ = true;
  bool probe_ = false;  // the attempt on upstream_ is the probe of a down host (claim_probe)
  int status_ = 0;
  bool client_keep_ = false;
  bool head_request_ = false;
  bool has_body_ = false;
  bool sent_continue_ = false;
  bool sent_to_client_ = false;  // an interim 1xx went out: the exchange cannot move elsewhere
  bool upgrade_ = false;         // the request asked to switch protocols: a 101 opens a tunnel
  http::version client_ver_ = http::version::http11;
  typename Clock::time_point response_deadline_{};  // the whole response head is due by then
};

}  // namespace bb
