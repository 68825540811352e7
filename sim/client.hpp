#pragma once
/// bb::sim::client_fleet: simulated HTTP clients on many client hosts.
///
/// Open-loop arrivals (Poisson at a rate) and closed-loop users (request, wait, think)
/// queue requests on a client host; that host's connection workers send them with
/// keep-alive and pipelining and check every response against the invariants as it
/// arrives. A sweep per host enforces the client's own deadlines and closes idle
/// connections. Requests are GET /r/<id>/<n> (the body is known from id and n), HEAD
/// /r/<id>/<n> (no body) or POST /r/<id> with a body to be echoed, so every 2xx body can be
/// checked by checksum, and every response from an upstream names the request it answers.
/// Some POSTs may trickle their body in three writes with pauses between (an upload the
/// upstream can answer before it is whole); such a POST goes alone on its connection.

#include <algorithm>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <sim/clock.hpp>
#include <sim/http_lite.hpp>
#include <sim/invariants.hpp>
#include <sim/signal.hpp>
#include <sim/transport.hpp>
#include <string>
#include <vector>

namespace bb::sim {

/// The shape of the load.
struct client_options {
  double rate = 100;             ///< open-loop arrivals per second over all hosts (0: none)
  std::size_t closed_users = 0;  ///< closed-loop users, spread over the hosts
  duration think_mean = std::chrono::milliseconds(100);
  std::size_t max_conns = 4;  ///< connections per client host
  std::size_t pipeline = 1;   ///< requests written back to back on one connection
  std::size_t max_requests_per_conn = 100;
  duration idle_close = std::chrono::seconds(5);
  duration request_timeout = std::chrono::seconds(30);
  duration connect_timeout = std::chrono::seconds(5);
  double post_fraction = 0.5;
  std::size_t max_body = 256;
  double head_fraction = 0;         ///< of the requests without a body, the share sent as HEAD
  double slow_upload_fraction = 0;  ///< of the POSTs of 3 bytes or more, the share sent in 3 parts
  /// Of the POSTs, the share sent bare: no body and no Content-Length, so that only the
  /// method keeps the proxy from replaying one (RFC 9110 §9.2.2).
  double bare_post_fraction = 0;
  duration upload_pause = std::chrono::milliseconds(20);  ///< the longest pause between those parts
  /// Of the connections, the share that read their responses slowly: at most
  /// slow_read_chunk bytes a read, each after a pause of up to read_pause.
  double slow_read_fraction = 0;
  duration read_pause = std::chrono::milliseconds(10);
  /// The client hosts' receive window (0: the network's default); small, it makes a slow
  /// reader push back on the proxy's writes.
  std::size_t receive_window = 0;
};

/// The bytes a slow reader takes per read.
inline constexpr std::size_t slow_read_chunk = 256;

/// One answered request as its client saw it: when it was issued and how long the
/// response took to arrive (queueing on the client host included).
struct latency_sample {
  duration issued;
  duration latency;
};

class client_fleet {
public:
  client_fleet(network& net, invariants& inv, const std::vector<host*>& hosts, std::vector<endpoint> entries,
               client_options opt, rng random)
      : inv_(inv), entries_(std::move(entries)), opt_(opt), random_(random) {
    for (auto* h : hosts) {
      if (opt_.receive_window) h->receive_window = opt_.receive_window;
      hosts_.push_back(std::make_unique<client_host>(net, *h));
    }
  }

  /// Generates load until virtual time `until`, then lets every request finish and every
  /// connection close.
  task<void> run(duration until) {
    scope s(co_await get_cancel_token());
    scope_ = &s;
    if (opt_.rate > 0) ++generators_, s.spawn(open_loop(until));
    for (std::size_t i = 0; i < opt_.closed_users; ++i)
      ++generators_, s.spawn(closed_user(*hosts_[i % hosts_.size()], until));
    if (generators_ == 0) stop_generating();
    for (auto& ch : hosts_) s.spawn(sweep(*ch));
    co_await s.join();
  }

  [[nodiscard]] std::uint64_t connections() const noexcept { return connections_; }
  /// From now on every response's latency is appended to `out` (nullptr: none).
  void record_latencies(std::vector<latency_sample>* out) noexcept { latencies_ = out; }

private:
  struct request {
    std::uint64_t id;
    bool post;
    bool head;  // HEAD: the answer has no body
    bool slow;  // a POST whose body trickles in three parts
    bool bare;  // a POST without body or Content-Length
    std::size_t size;
    std::uint64_t expect;  // checksum of the body a 2xx must carry
    std::string body;
    signal* done = nullptr;
  };
  struct worker_state {
    signal wake;
    stream* active = nullptr;  // the connection while responses are awaited
    duration deadline = duration::max();
    duration idle_since{0};
    bool timed_out = false;
    bool expired = false;
    explicit worker_state(host& h) : wake(h) {}
  };
  struct client_host {
    host& h;
    transport t;
    virtual_clock clock;
    std::deque<request> queue;
    std::vector<worker_state*> idle;
    std::vector<worker_state*> all;
    client_host(network& net, host& hh) : h(hh), t(net, hh), clock(net.exec(), hh) {}
  };

  request make_request(client_host& ch) {
    request r{};
    r.post = random_.chance(opt_.post_fraction);
    r.size = static_cast<std::size_t>(random_.below(opt_.max_body + 1));
    // Drawn only when asked for, as HEAD below: loads without them draw the same requests.
    if (r.post && opt_.bare_post_fraction > 0 && random_.chance(opt_.bare_post_fraction)) r.bare = true, r.size = 0;
    // The id is known only once issued, so the POST body is seeded by a counter instead.
    const std::uint64_t salt = ++made_ ^ 0x5bd1e995ull;
    std::uint64_t sum;
    if (r.post) {
      r.body = http_lite::payload(salt, r.size);
      sum = http_lite::payload_checksum(salt, r.size);  // checksum(r.body), without reading it
    } else {
      sum = 0;
    }
    if (!r.post && opt_.head_fraction > 0) r.head = random_.chance(opt_.head_fraction);
    if (r.post && r.size >= 3 && opt_.slow_upload_fraction > 0) r.slow = random_.chance(opt_.slow_upload_fraction);
    r.id = inv_.issue(ch.h.id, sum);
    r.expect = r.post ? sum : http_lite::payload_checksum(r.id, r.head ? 0 : r.size);
    return r;
  }

  void enqueue(client_host& ch, request r) {
    ch.queue.push_back(std::move(r));
    if (!ch.idle.empty()) {
      auto* w = ch.idle.back();
      ch.idle.pop_back();
      w->wake.notify();
    } else if (ch.all.size() < opt_.max_conns) {
      scope_->spawn(worker(ch));
    }
  }

  void resolve_failed(client_host& ch, request& r, outcome o, std::uint64_t behind = 0) {
    inv_.fail(r.id, ch.h.id, o, behind);
    if (r.done) r.done->notify();
  }

  /// Writes one request whose body (its last `body` bytes of `wire`) goes out in three
  /// parts, the head with the first, pausing up to upload_pause before each other; false
  /// when a write failed or the load was cancelled.
  task<bool> trickle(client_host& ch, stream& conn, std::string_view wire, std::size_t body) {
    const std::size_t head = wire.size() - body;
    const std::size_t cuts[] = {head + body / 3, head + 2 * body / 3, wire.size()};
    std::size_t at = 0;
    for (const std::size_t to : cuts) {
      if (at > 0) {
        const auto span = std::max<std::int64_t>(1, (opt_.upload_pause - std::chrono::milliseconds(1)).count());
        const auto pause = std::chrono::milliseconds(1) +
                           duration(static_cast<std::int64_t>(random_.below(static_cast<std::uint64_t>(span))));
        if (co_await ch.clock.sleep_for(pause)) co_return false;
      }
      if (co_await http_lite::write_all(conn, wire.substr(at, to - at))) co_return false;
      at = to;
    }
    co_return true;
  }

  void stop_generating() {
    stopping_ = true;
    for (auto& ch : hosts_)
      for (auto* w : ch->idle) w->wake.notify();
  }

  task<void> open_loop(duration until) {
    auto& clock = hosts_.front()->clock;
    const double mean_gap = 1e9 / opt_.rate;
    for (;;) {
      const auto gap = duration(static_cast<std::int64_t>(random_.exponential(mean_gap)));
      if (clock.now().time_since_epoch() + gap >= until) break;
      if (co_await clock.sleep_for(gap)) break;
      auto& ch = *hosts_[random_.below(hosts_.size())];
      enqueue(ch, make_request(ch));
    }
    if (--generators_ == 0) stop_generating();
  }

  task<void> closed_user(client_host& ch, duration until) {
    signal done(ch.h);
    while (ch.clock.now().time_since_epoch() < until) {
      auto r = make_request(ch);
      r.done = &done;
      enqueue(ch, std::move(r));
      if (!co_await done.wait()) break;
      const auto think =
          duration(static_cast<std::int64_t>(random_.exponential(static_cast<double>(opt_.think_mean.count()))));
      if (co_await ch.clock.sleep_for(think)) break;
    }
    if (--generators_ == 0) stop_generating();
  }

  static task<result<stream>> connect_to(transport& t, endpoint e) { co_return co_await t.connect(e); }

  /// A connection read slowly: each read waits up to `pause` and takes at most
  /// slow_read_chunk bytes.
  struct paced_reads {
    stream& s;
    virtual_clock& clock;
    rng& random;
    duration pause;
    task<io_result> read_some(std::span<char> buf) {
      const auto wait =
          duration(static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(pause.count()) + 1)));
      if (co_await clock.sleep_for(wait)) co_return io_result{make_error_code(std::errc::operation_canceled), 0};
      co_return co_await s.read_some(buf.first(std::min(buf.size(), slow_read_chunk)));
    }
  };

  task<void> worker(client_host& ch) {
    worker_state w(ch.h);
    ch.all.push_back(&w);
    std::optional<stream> conn;
    http_lite::reader rd;
    http_lite::message m;
    std::vector<request> batch;
    std::string wire, target;  // reused: every request of a batch goes out in one write
    std::size_t served = 0;
    bool slow_reads = false;
    for (;;) {
      if (ch.queue.empty()) {
        if (stopping_ || w.expired) break;
        w.idle_since = ch.clock.now().time_since_epoch();
        ch.idle.push_back(&w);
        const bool ok = co_await w.wake.wait();
        std::erase(ch.idle, &w);
        if (!ok) break;
        continue;
      }
      if (!conn) {
        const auto& to = entries_[random_.below(entries_.size())];
        auto r = co_await with_timeout(ch.clock, opt_.connect_timeout, connect_to(ch.t, to));
        if (!r || !*r) {
          request q = std::move(ch.queue.front());
          ch.queue.pop_front();
          resolve_failed(ch, q, r ? outcome::conn_error : outcome::timeout);
          continue;
        }
        conn.emplace(std::move(r->value()));
        rd = http_lite::reader{};
        served = 0;
        // Drawn only when asked for: loads without slow readers draw what they did before.
        slow_reads = opt_.slow_read_fraction > 0 && random_.chance(opt_.slow_read_fraction);
        ++connections_;
      }
      batch.clear(), wire.clear();
      std::size_t n = std::min({opt_.pipeline, opt_.max_requests_per_conn - served, ch.queue.size()});
      for (std::size_t i = 0; i < n; ++i)
        if (ch.queue[i].slow) n = std::max<std::size_t>(i, 1);  // a trickling upload goes alone
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(ch.queue.front()));
        ch.queue.pop_front();
      }
      served += n;
      const bool last = served >= opt_.max_requests_per_conn;
      for (std::size_t i = 0; i < n; ++i) {
        auto& q = batch[i];
        target.assign("/r/");
        http_lite::append_number(target, q.id);
        if (!q.post) target += '/', http_lite::append_number(target, q.size);
        http_lite::append_request(wire,
                                  q.post   ? "POST"
                                  : q.head ? "HEAD"
                                           : "GET",
                                  target, q.body, last && i + 1 == n, q.bare);
      }
      bool dead;
      if (n > 0 && batch[0].slow) {  // n is 0 when other workers took the queue while this one connected
        dead = !co_await trickle(ch, *conn, wire, batch[0].body.size());
      } else {
        const const_buffer bufs[] = {{wire.data(), wire.size()}};
        dead = static_cast<bool>((co_await conn->write(bufs)).ec);
      }
      w.timed_out = false;
      w.deadline = ch.clock.now().time_since_epoch() + opt_.request_timeout;
      w.active = &*conn;
      std::size_t unanswered = n;  // from here on, after a response that announced close
      std::uint64_t broke = 0;     // the request whose response broke the connection
      for (std::size_t i = 0; i < n; ++i) {
        auto& q = batch[i];
        if (i >= unanswered) continue;
        if (!dead) {
          const http_lite::reader::framing how{true, q.head};
          std::error_code ec;
          if (slow_reads) {
            paced_reads in{*conn, ch.clock, random_, opt_.read_pause};
            ec = co_await rd.read(in, how, m);
          } else {
            ec = co_await rd.read(*conn, how, m);
          }
          if (ec) {
            dead = true;
            broke = q.id;
            if (ec == std::errc::bad_message) inv_.unparsable(q.id);
          }
        }
        if (dead) {
          resolve_failed(ch, q, w.timed_out ? outcome::timeout : outcome::conn_error, broke == q.id ? 0 : broke);
          continue;
        }
        const auto sum = checksum(m.body);
        // A 204 from the upstream asked has no content, like an answer to HEAD.
        const bool body_ok =
            q.head || (m.status == 204 && !q.post && m.answers == q.id) ? m.body.empty() : sum == q.expect;
        bool in_order = true;
        for (std::size_t j = i + 1; j < n && !body_ok; ++j)
          if (batch[j].expect == sum) in_order = false;
        inv_.respond(q.id, ch.h.id, m.status, body_ok, in_order, m.answers);
        if (latencies_) {
          const auto issued = inv_.issued_at(q.id);
          latencies_->push_back({issued, ch.clock.now().time_since_epoch() - issued});
        }
        if (q.done) q.done->notify();
        if (m.close) dead = true, unanswered = i + 1;
      }
      // A server that announces close processes nothing after that response (RFC 9112
      // §9.6), so the requests pipelined behind it go out again on a new connection.
      for (std::size_t j = n; j-- > unanswered;) ch.queue.push_front(std::move(batch[j]));
      w.active = nullptr;
      w.deadline = duration::max();
      if (dead || last) conn.reset();
    }
    conn.reset();
    std::erase(ch.all, &w);
  }

  /// Cuts connections whose responses are overdue and retires idle ones; ends once the
  /// load has stopped and the host's workers are gone.
  task<void> sweep(client_host& ch) {
    while (!(stopping_ && ch.all.empty())) {
      if (co_await ch.clock.sleep_for(std::chrono::milliseconds(500))) break;
      const auto now = ch.clock.now().time_since_epoch();
      for (auto* w : ch.all) {
        if (w->active && now >= w->deadline) {
          w->timed_out = true;
          w->active->close();
        } else if (!w->active && !w->expired && now - w->idle_since >= opt_.idle_close &&
                   std::find(ch.idle.begin(), ch.idle.end(), w) != ch.idle.end()) {
          w->expired = true;
          w->wake.notify();
        }
      }
    }
  }

  invariants& inv_;
  std::vector<endpoint> entries_;
  client_options opt_;
  rng random_;
  std::vector<std::unique_ptr<client_host>> hosts_;
  scope* scope_ = nullptr;
  std::size_t generators_ = 0;
  bool stopping_ = false;
  std::uint64_t made_ = 0;
  std::uint64_t connections_ = 0;
  std::vector<latency_sample>* latencies_ = nullptr;
};

}  // namespace bb::sim
