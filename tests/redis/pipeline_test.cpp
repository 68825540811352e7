// The pipeline's bookkeeping: replies go to calls in the order they were sent, a caller
// whose deadline passes is let go while its entry waits for its reply, and a server whose
// oldest call is late shows as stalled.

#include <bb/core/task.hpp>
#include <bb/redis/pipeline.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <coroutine>
#include <optional>
#include <vector>

namespace redis = bb::redis;
using namespace std::chrono_literals;
using tp = std::chrono::time_point<std::chrono::steady_clock, std::chrono::nanoseconds>;

namespace {
tp at(std::chrono::nanoseconds d) { return tp(d); }

// A caller suspended on a waiter, as a redis_limiter decision is.
bb::task<void> wait_on(redis::waiter& w, std::optional<bb::result<redis::reply>>& out) { out.emplace(co_await w); }
}  // namespace

TEST_CASE("redis pipeline hands replies to calls in the order they were sent", "[redis][pipeline]") {
  redis::pipeline<tp> p;
  redis::waiter a, b, c;
  p.push(at(20ms), a);
  p.push(at(21ms), b);
  p.push(at(22ms), c);
  CHECK(p.size() == 3);
  for (auto* w : {&a, &b, &c}) {
    auto got = p.pop();
    REQUIRE(got);
    CHECK(*got == w);
  }
  CHECK_FALSE(p.pop());  // a reply nobody asked for
}

TEST_CASE("redis pipeline lets late callers go but keeps their entries for their replies", "[redis][pipeline]") {
  redis::pipeline<tp> p;
  redis::waiter a, b, c;
  std::optional<bb::result<redis::reply>> ra, rb, rc;
  // Each caller suspends on its waiter; the frames are destroyed once they have finished.
  const std::vector<std::coroutine_handle<>> callers = {wait_on(a, ra).release(), wait_on(b, rb).release(),
                                                        wait_on(c, rc).release()};
  for (auto h : callers) h.resume();
  p.push(at(20ms), a);
  p.push(at(21ms), b);
  p.push(at(40ms), c);
  CHECK(p.next_deadline() == at(20ms));
  CHECK_FALSE(p.stalled());

  auto late = p.expire(at(21ms));
  REQUIRE(late.size() == 2);
  CHECK(late[0] == &a);
  CHECK(late[1] == &b);
  for (auto* w : late) w->complete(make_error_code(redis::errc::timed_out));
  CHECK(ra->error() == redis::errc::timed_out);
  CHECK(rb->error() == redis::errc::timed_out);
  CHECK_FALSE(rc);
  CHECK(p.stalled());
  CHECK(p.stalled_since() == at(20ms));
  CHECK(p.next_deadline() == at(40ms));
  CHECK(p.size() == 3);

  // The late replies arrive: nobody waits for them; the third goes to its caller.
  CHECK(p.pop() == std::optional<redis::waiter*>(nullptr));
  CHECK(p.pop() == std::optional<redis::waiter*>(nullptr));
  CHECK_FALSE(p.stalled());
  auto w = p.pop();
  REQUIRE(w);
  (*w)->complete(redis::integer_reply(7));
  REQUIRE(rc);
  CHECK(rc->value() == redis::integer_reply(7));
  for (auto h : callers) {
    CHECK(h.done());
    h.destroy();
  }
}

TEST_CASE("redis pipeline expires a resent call by its own deadline, behind later ones", "[redis][pipeline]") {
  redis::pipeline<tp> p;
  redis::waiter a, resent;
  p.push(at(30ms), a);
  p.push(at(25ms), resent);  // sent again after NOSCRIPT, with its first deadline
  CHECK(p.next_deadline() == at(25ms));
  auto late = p.expire(at(25ms));
  REQUIRE(late.size() == 1);
  CHECK(late[0] == &resent);
  CHECK_FALSE(p.stalled());  // the oldest call still has time
}

TEST_CASE("redis pipeline gives back every waiting caller when the connection goes", "[redis][pipeline]") {
  redis::pipeline<tp> p;
  redis::waiter a, b, c;
  p.push(at(1ms), a);
  p.push(at(50ms), b);
  p.push(at(60ms), c);
  (void)p.expire(at(2ms));
  auto left = p.clear();
  CHECK(left == std::vector<redis::waiter*>{&b, &c});
  CHECK(p.empty());
  CHECK_FALSE(p.next_deadline());
}
