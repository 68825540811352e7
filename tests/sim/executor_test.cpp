#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <catch2/catch.hpp>
#include <sim/clock.hpp>
#include <sim/executor.hpp>
#include <sim/run.hpp>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

void push(void* ctx, std::uint64_t arg) { static_cast<std::vector<int>*>(ctx)->push_back(static_cast<int>(arg)); }

bb::task<void> sleeper(bb::sim::virtual_clock& c, std::chrono::nanoseconds d, int tag, std::vector<int>& out) {
  co_await c.sleep_for(d);
  out.push_back(tag);
}

bb::task<void> sleep_all(bb::sim::virtual_clock& c, std::vector<int>& out) {
  bb::scope s;
  s.spawn(sleeper(c, 3s, 3, out));
  s.spawn(sleeper(c, 1s, 1, out));
  s.spawn(sleeper(c, 2s, 2, out));
  s.spawn(sleeper(c, 1s, 11, out));  // same instant as tag 1: scheduled later, runs later
  co_await s.join();
}

bb::task<std::error_code> long_sleep(bb::sim::virtual_clock& c) { co_return co_await c.sleep_for(1h); }

bb::task<bool> times_out(bb::sim::virtual_clock& c) {
  auto r = co_await bb::with_timeout(c, 5s, long_sleep(c));
  co_return !r.has_value();
}

}  // namespace

TEST_CASE("executor runs posted events in order before any timer", "[sim][executor]") {
  bb::sim::executor ex;
  std::vector<int> out;
  ex.at(0ns, {&push, &out, 9});
  ex.post({&push, &out, 1});
  ex.post({&push, &out, 2});
  ex.run();
  CHECK(out == std::vector<int>{1, 2, 9});
}

TEST_CASE("executor fires timers by time and breaks ties by scheduling order", "[sim][executor]") {
  bb::sim::executor ex;
  std::vector<int> out;
  ex.at(5ms, {&push, &out, 5});
  ex.at(1ms, {&push, &out, 1});
  ex.at(5ms, {&push, &out, 6});
  ex.at(3ms, {&push, &out, 3});
  ex.run();
  CHECK(out == std::vector<int>{1, 3, 5, 6});
  CHECK(ex.now() == 5ms);
  CHECK(ex.pending_timers() == 0);
}

TEST_CASE("executor skips a cancelled timer and reports it cancelled once", "[sim][executor]") {
  bb::sim::executor ex;
  std::vector<int> out;
  auto id = ex.at_cancellable(2ms, {&push, &out, 2});
  ex.at(1ms, {&push, &out, 1});
  CHECK(ex.cancel(id));
  CHECK_FALSE(ex.cancel(id));
  ex.run();
  CHECK(out == std::vector<int>{1});
}

TEST_CASE("executor stops at a time limit and moves the clock to it", "[sim][executor]") {
  bb::sim::executor ex;
  std::vector<int> out;
  ex.at(10s, {&push, &out, 10});
  ex.run(4s);
  CHECK(out.empty());
  CHECK(ex.now() == 4s);
  ex.run();
  CHECK(out == std::vector<int>{10});
}

TEST_CASE("virtual_clock wakes sleepers in deadline order and jumps over idle time", "[sim][clock]") {
  bb::sim::executor ex;
  bb::sim::host h;
  h.exec = &ex;
  bb::sim::virtual_clock c(ex, h);
  std::vector<int> out;
  bb::sim::run(ex, sleep_all(c, out));
  CHECK(out == std::vector<int>{1, 11, 2, 3});
  CHECK(c.now().time_since_epoch() == 3s);
}

TEST_CASE("virtual_clock sleep is cancelled by with_timeout without waiting for it", "[sim][clock]") {
  bb::sim::executor ex;
  bb::sim::host h;
  h.exec = &ex;
  bb::sim::virtual_clock c(ex, h);
  CHECK(bb::sim::run(ex, times_out(c)));
  CHECK(c.now().time_since_epoch() == 5s);
  CHECK(ex.pending_timers() == 0);
}

TEST_CASE("virtual_clock holds a paused host's sleepers until it resumes", "[sim][clock]") {
  bb::sim::executor ex;
  bb::sim::host h;
  h.exec = &ex;
  bb::sim::virtual_clock c(ex, h);
  std::vector<int> out;
  auto t = sleeper(c, 1s, 1, out);
  h.pause();
  auto handle = t.release();
  ex.post(handle);
  ex.run();
  CHECK(out.empty());
  CHECK(h.held.size() == 1);
  h.resume();
  ex.run();
  CHECK(out == std::vector<int>{1});
  handle.destroy();
}
