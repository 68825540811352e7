// bb::redis_limiter and bb::redis::client over the simulated network and virtual clock,
// against a model Redis (sim_redis.hpp): the same code as on real sockets, with time and
// faults under the test's control. Decisions in flight are pipelined and answered in
// order; a slow server gets the on-error answer at the timeout, and at once while it is
// stalled; lost scripts come back through NOSCRIPT; a crash and a restart are survived.

#include "sim_redis.hpp"

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/limit/redis_limiter.hpp>
#include <catch2/catch.hpp>
#include <sim/clock.hpp>
#include <sim/executor.hpp>
#include <sim/network.hpp>
#include <sim/run.hpp>
#include <sim/transport.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace sim = bb::sim;
using limiter_type = bb::redis_limiter<sim::transport, sim::virtual_clock>;

/// A worker's limiter on one host, a model Redis on another; 1 ms per hop, no jitter.
struct rig {
  sim::executor ex;
  sim::trace tr;
  sim::network net{ex, tr, 7};
  sim::host& proxy_host = net.add_host("proxy", bb::ip_address::v4(10, 0, 0, 1), 1ms, 1ms);
  sim::host& redis_host = net.add_host("redis", bb::ip_address::v4(10, 0, 2, 1), 1ms, 1ms);
  sim::transport transport{net, proxy_host};
  sim::virtual_clock clock{ex, proxy_host};
  redis_test::sim_redis redis{net, redis_host};
  bb::rate_limit_config config;
  std::vector<std::string> lines;
  bb::logger log{bb::log_level::info, [this](bb::log_level, std::string_view l) { lines.emplace_back(l); }};
  std::optional<bb::memory_limiter> fallback;
  std::optional<limiter_type> limiter;

  rig() {
    net.jitter_fraction = 0;
    config.limit = 5;
    config.algorithm = bb::rate_limit_algorithm::gcra;
    config.window = 5s;  // one more every second, bursts of 5
    config.redis.url = *bb::redis::parse_url("redis://10.0.2.1:6379").value;
    config.redis.servers = {redis.address()};
    config.redis.timeout = 20ms;
  }

  /// Runs `body` with the model serving and the limiter connected.
  void run(std::function<bb::task<void>(rig&)> body) {
    fallback.emplace(config.algorithm, config.limit, config.window, config.effective_burst());
    limiter.emplace(
        transport, clock, bb::rng(3), config, log, &*fallback, "",
        bb::redis::breaker_config{.threshold = 3, .open_for = 500ms, .backoff_min = 10ms, .backoff_max = 40ms});
    sim::run(
        ex,
        [](rig& r, std::function<bb::task<void>(rig&)> b) -> bb::task<void> {
          bb::scope s;
          s.spawn(r.redis.serve());
          s.spawn(r.limiter->run());
          co_await r.until_ready();
          co_await b(r);
          r.limiter->stop();
          r.net.crash(r.redis_host);
          co_await s.join();
        }(*this, std::move(body)),
        600s);
  }

  bb::task<void> until_ready() {
    for (int i = 0; i < 5000 && !limiter->store().ready(); ++i) co_await clock.sleep_for(1ms);
    REQUIRE(limiter->store().ready());
  }

  bb::task<void> restart_redis() {
    net.restart(redis_host);
    co_return;
  }

  sim::duration now() const { return ex.now(); }
};

const bb::client_key alice{0, 0x0000'ffff'0a01'0001};
const bb::client_key bob{0, 0x0000'ffff'0a01'0002};

/// One decision, and how long it took on the virtual clock.
struct timed {
  bb::rate_decision d;
  sim::duration took;
};
bb::task<timed> decide(rig& r, const bb::client_key& k) {
  const auto start = r.now();
  auto d = co_await r.limiter->decide(k, bb::since_epoch(r.clock.now()));
  co_return timed{d, r.now() - start};
}

}  // namespace

TEST_CASE("redis_limiter pipelines decisions in flight over the simulated network and admits exactly the limit",
          "[redis][limiter][sim]") {
  rig setup;
  setup.run([](rig& r) -> bb::task<void> {
    std::vector<timed> alice_answers(12), bob_answers(3);
    bb::scope s;
    for (auto& a : alice_answers)
      s.spawn([](rig& rr, timed& out) -> bb::task<void> { out = co_await decide(rr, alice); }(r, a));
    for (auto& b : bob_answers)
      s.spawn([](rig& rr, timed& out) -> bb::task<void> { out = co_await decide(rr, bob); }(r, b));
    co_await s.join();
    int admitted = 0;
    for (std::size_t i = 0; i < alice_answers.size(); ++i) {
      const auto& a = alice_answers[i];
      CHECK(a.d.figures);
      CHECK(a.took <= 5ms);  // one round trip (2 hops each way), none waited for another's
      if (a.d.allowed) {
        ++admitted;
        CHECK(a.d.remaining == 5 - i - 1);  // answered in the order asked
      }
    }
    CHECK(admitted == 5);
    for (const auto& b : bob_answers) CHECK(b.d.allowed);
    CHECK(r.limiter->store().counters().most_in_flight == 15);  // all in flight at once
    // A client refused until T is refused without a round trip until T.
    const auto sent = r.limiter->store().counters().calls;
    const auto again = co_await decide(r, alice);
    CHECK_FALSE(again.d.allowed);
    CHECK(again.took == 0ms);
    CHECK(r.limiter->store().counters().calls == sent);
    CHECK(r.limiter->counters().cached.value() == 1);
    co_await r.clock.sleep_for(1s);  // one emission interval later Redis admits one more
    const auto later = co_await decide(r, alice);
    CHECK(later.d.allowed);
    CHECK(r.limiter->store().counters().calls == sent + 1);
  });
}

TEST_CASE("redis_limiter answers a slow Redis at the timeout, and at once while it stays stalled",
          "[redis][limiter][sim]") {
  rig setup;
  setup.run([](rig& r) -> bb::task<void> {
    r.redis.delay = 100ms;
    const auto first = co_await decide(r, alice);
    CHECK(first.d.allowed);  // on-error allow
    CHECK_FALSE(first.d.figures);
    CHECK(first.took == 20ms);
    const auto second = co_await decide(r, bob);  // the first call is still unanswered: stalled
    CHECK_FALSE(second.d.figures);
    CHECK(second.took == 0ms);
    CHECK(r.limiter->counters().on_error.value() == 2);
    r.redis.delay = {};
    co_await r.clock.sleep_for(150ms);  // the late reply arrives and is dropped
    CHECK(r.limiter->store().ready());
    const auto third = co_await decide(r, alice);
    CHECK(third.d.figures);
    CHECK(third.d.remaining == 3);  // the late call was counted by Redis; this is the second
    CHECK(r.limiter->store().counters().timeouts == 1);
  });
}

TEST_CASE("redis_limiter drops a Redis stalled past the stall limit and reconnects", "[redis][limiter][sim]") {
  rig setup;
  setup.run([](rig& r) -> bb::task<void> {
    r.redis.delay = 5s;
    (void)co_await decide(r, alice);
    co_await r.clock.sleep_for(1100ms);
    CHECK_FALSE(r.limiter->store().ready());
    r.redis.delay = {};
    co_await r.until_ready();
    CHECK(r.limiter->store().counters().connects == 2);
    const bool lost = std::any_of(r.lines.begin(), r.lines.end(), [](const std::string& l) {
      return l.find("connection lost: no reply for") != std::string::npos;
    });
    CHECK(lost);
  });
}

TEST_CASE("redis_limiter recovers lost scripts through NOSCRIPT within the same decision", "[redis][limiter][sim]") {
  rig setup;
  setup.run([](rig& r) -> bb::task<void> {
    (void)co_await decide(r, alice);
    r.redis.flush_scripts();
    const auto d = co_await decide(r, alice);
    CHECK(d.d.figures);
    CHECK(d.d.remaining == 3);
    CHECK(d.took <= 9ms);  // two round trips
    CHECK(r.redis.eval == 1);
    CHECK(r.limiter->counters().reloads.value() == 1);
    (void)co_await decide(r, alice);  // EVAL put the script back: EVALSHA works again
    CHECK(r.redis.eval == 1);
  });
}

TEST_CASE("redis_limiter applies each on-error mode while Redis is down, opens its breaker, and comes back",
          "[redis][limiter][sim]") {
  const auto mode =
      GENERATE(bb::rate_limit_on_error::allow, bb::rate_limit_on_error::deny, bb::rate_limit_on_error::local);
  CAPTURE(static_cast<int>(mode));
  rig setup;
  setup.config.redis.on_error = mode;
  setup.run([mode](rig& r) -> bb::task<void> {
    (void)co_await decide(r, alice);
    r.net.crash(r.redis_host);
    co_await r.clock.sleep_for(5ms);
    for (int i = 0; i < 7; ++i) {
      const auto d = co_await decide(r, bob);
      CHECK(d.took == 0ms);
      if (mode == bb::rate_limit_on_error::allow) CHECK((d.d.allowed && !d.d.figures));
      if (mode == bb::rate_limit_on_error::deny)
        CHECK((!d.d.allowed && !d.d.figures && d.d.retry_after_ns == 1'000'000'000));
      if (mode == bb::rate_limit_on_error::local) CHECK((d.d.figures && d.d.allowed == (i < 5)));
    }
    co_await r.clock.sleep_for(200ms);  // three failed connects: the breaker opens
    const auto has = [&](std::string_view what) {
      return std::any_of(r.lines.begin(), r.lines.end(),
                         [&](const std::string& l) { return l.find(what) != std::string::npos; });
    };
    CHECK(has("connection lost"));
    CHECK(has("breaker open after 3 consecutive failures"));
    r.net.restart(r.redis_host);
    r.redis.flush_scripts();
    r.redis.flush_keys();
    bb::scope s;
    s.spawn(r.redis.serve());
    co_await r.until_ready();
    CHECK(has("breaker closed: connected"));
    const auto d = co_await decide(r, bob);
    CHECK(d.d.figures);
    CHECK(d.d.remaining == 4);  // Redis lost its state: bob starts afresh
    r.net.crash(r.redis_host);
    co_await s.join();
  });
}
