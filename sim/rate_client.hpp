#pragma once
/// bb::sim::rate_fleet: clients of the rate-limit scenarios, each a host of its own (one
/// client IP) following a plan, every response checked by the rate_watch.
///
/// A client never pipelines: on each of its connections one request is in flight at a
/// time, so the proxy decides it the instant it arrives (what the watch relies on). A
/// burst is several connections at once, each sending its share back to back.

#include <algorithm>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <sim/clock.hpp>
#include <sim/http_lite.hpp>
#include <sim/invariants.hpp>
#include <sim/rate_watch.hpp>
#include <sim/transport.hpp>
#include <string>
#include <vector>

namespace bb::sim {

/// What one rate client does.
struct rate_plan {
  enum class kind : std::uint8_t {
    steady,        ///< one request every `period` from `start`
    burst,         ///< from `start`, every `period` (0: once), `count` requests over `parallel` connections
    retry_after,   ///< back-to-back requests until a 429, then waits exactly its Retry-After
    cs110l,        ///< at `start`, `count` requests back to back on one connection
    well_behaved,  ///< steady, under the limit; its latency is the herd's responsiveness figure
  };
  kind what = kind::steady;
  duration start{0};
  duration period{0};
  std::uint32_t count = 1;
  std::uint32_t parallel = 1;
  double post_fraction = 0;  ///< requests with a body (a refused one costs its connection)
};

constexpr std::string_view to_string(rate_plan::kind k) noexcept {
  constexpr std::string_view names[] = {"steady", "burst", "retry_after", "cs110l", "well_behaved"};
  return names[static_cast<int>(k)];
}

class rate_fleet {
public:
  /// Clients on `hosts` (one per plan) sending to `proxy`; every response goes to `watch`.
  rate_fleet(network& net, invariants& inv, rate_watch& watch, const std::vector<host*>& hosts,
             std::vector<rate_plan> plans, endpoint proxy, rng random)
      : inv_(inv), watch_(watch), proxy_(proxy), random_(random) {
    for (std::size_t i = 0; i < hosts.size(); ++i)
      clients_.push_back(std::make_unique<client>(net, *hosts[i], plans[i], i));
    for (auto& c : clients_) c->t.set_tap(&watch_);
  }

  /// Runs every plan until virtual time `until`, then waits for the answers.
  task<void> run(duration until) {
    until_ = until;
    scope s(co_await get_cancel_token());
    for (auto& c : clients_) s.spawn(follow(*c));
    co_await s.join();
  }

  [[nodiscard]] std::uint64_t connections() const noexcept { return connections_; }
  /// Latencies (request written to response read) of the well-behaved clients' requests.
  [[nodiscard]] std::vector<duration>& well_behaved_latencies() noexcept { return latencies_; }
  /// Per client: its plan and the 200s and 429s it got.
  struct tally {
    rate_plan::kind what;
    std::uint64_t ok = 0, refused = 0;
  };
  [[nodiscard]] std::vector<tally> tallies() const {
    std::vector<tally> t;
    for (auto& c : clients_) t.push_back({c->plan.what, c->ok, c->refused});
    return t;
  }

private:
  struct client {
    host& h;
    transport t;
    virtual_clock clock;
    rate_plan plan;
    std::size_t index;
    std::uint64_t ok = 0, refused = 0;
    client(network& net, host& hh, rate_plan p, std::size_t i)
        : h(hh), t(net, hh), clock(net.exec(), hh), plan(p), index(i) {}
  };
  /// One connection of a client, opened when needed and reopened after a close.
  struct conn {
    std::optional<stream> s;
    http_lite::reader rd;
    duration last{0};
  };

  static task<result<stream>> connect_to(transport& t, endpoint e) { co_return co_await t.connect(e); }

  /// Sends one request on `k` and reads its answer; returns its status (0: none).
  task<int> exchange(client& c, conn& k, bool waited, std::int64_t* retry_after = nullptr) {
    const auto now = [&] { return c.clock.now().time_since_epoch(); };
    // Idle connections are retired long before the proxy's 60 s idle timeout could race a request.
    if (k.s && now() - k.last > std::chrono::seconds(20)) k.s.reset();
    const bool post = random_.chance(c.plan.post_fraction);
    const std::size_t size = post ? 1 + random_.below(64) : random_.below(65);
    const std::uint64_t salt = ++made_ ^ 0x2545f4914f6cdd1dull;
    const std::string body = post ? http_lite::payload(salt, size) : std::string();
    const std::uint64_t id = inv_.issue(c.h.id, post ? checksum(body) : 0);
    watch_.issued(id, c.index, waited);
    if (!k.s) {
      auto r = co_await connect_to(c.t, proxy_);
      if (!r) {
        inv_.fail(id, c.h.id, outcome::conn_error);
        co_return 0;
      }
      k.s.emplace(std::move(r.value()));
      k.rd = http_lite::reader{};
      ++connections_;
    }
    std::string target = "/r/";
    http_lite::append_number(target, id);
    if (!post) target += '/', http_lite::append_number(target, size);
    const auto wire = http_lite::make_request(post ? "POST" : "GET", target, body, false);
    const auto sent = now();
    http_lite::message m;
    std::error_code ec = co_await http_lite::write_all(*k.s, wire);
    if (!ec) ec = co_await k.rd.read(*k.s, true, m);
    k.last = now();
    if (ec) {
      if (ec == std::errc::bad_message) inv_.unparsable(id);
      inv_.fail(id, c.h.id, outcome::conn_error);
      k.s.reset();
      co_return 0;
    }
    if (c.plan.what == rate_plan::kind::well_behaved) latencies_.push_back(now() - sent);
    watch_.answered(id, m);
    const std::uint64_t expect = post ? checksum(body) : http_lite::payload_checksum(id, size);
    inv_.respond(id, c.h.id, m.status, checksum(m.body) == expect, true, m.answers);
    if (m.status == 200) ++c.ok;
    if (m.status == 429) ++c.refused;
    if (retry_after) *retry_after = m.retry_after;
    if (m.close) k.s.reset();
    co_return m.status;
  }

  /// `n` requests back to back on one connection of its own.
  task<void> series(client& c, std::uint32_t n) {
    conn k;
    for (std::uint32_t i = 0; i < n; ++i) co_await exchange(c, k, false);
  }

  task<void> follow(client& c) {
    using kind = rate_plan::kind;
    const auto& p = c.plan;
    if (co_await c.clock.sleep_until(virtual_clock::time_point(p.start))) co_return;
    conn k;
    switch (p.what) {
      case kind::steady:
      case kind::well_behaved:
        for (auto next = p.start; next < until_; next += p.period) {
          if (co_await c.clock.sleep_until(virtual_clock::time_point(next))) break;
          co_await exchange(c, k, false);
        }
        break;
      case kind::burst:
        for (auto next = p.start; next < until_; next += p.period) {
          if (co_await c.clock.sleep_until(virtual_clock::time_point(next))) break;
          scope s(co_await get_cancel_token());
          for (std::uint32_t i = 0; i < p.parallel; ++i)
            s.spawn(series(c, p.count / p.parallel + (i < p.count % p.parallel ? 1 : 0)));
          co_await s.join();
          if (p.period.count() == 0) break;
        }
        break;
      case kind::cs110l:
        for (std::uint32_t i = 0; i < p.count; ++i) co_await exchange(c, k, false);
        break;
      case kind::retry_after: {
        bool waited = false;
        while (c.clock.now().time_since_epoch() < until_) {
          std::int64_t wait_s = -1;
          const int status = co_await exchange(c, k, waited, &wait_s);
          waited = false;
          if (status == 0) break;
          if (status != 429) continue;
          if (wait_s < 0) break;  // the watch has reported it
          if (co_await c.clock.sleep_for(std::chrono::seconds(wait_s))) break;
          waited = true;
        }
        break;
      }
    }
  }

  invariants& inv_;
  rate_watch& watch_;
  endpoint proxy_;
  rng random_;
  std::vector<std::unique_ptr<client>> clients_;
  duration until_{0};
  std::uint64_t made_ = 0;
  std::uint64_t connections_ = 0;
  std::vector<duration> latencies_;
};

}  // namespace bb::sim
