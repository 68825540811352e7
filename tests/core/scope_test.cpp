// bb::scope: joining spawned tasks, cancelling them, carrying their exceptions.

#include <bb/core/scope.hpp>
#include <bb/core/sync_wait.hpp>
#include <bb/core/task.hpp>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "manual_clock.hpp"

namespace {

bb::task<void> fail() {
  throw std::runtime_error("boom");
  co_return;
}

}  // namespace

TEST_CASE("scope joins every spawned task before join resumes", "[core][scope]") {
  bb::test::manual_clock c;
  std::vector<int> order;
  bool joined = false;
  auto main = [](bb::test::manual_clock& clk, std::vector<int>& o, bool& j) -> bb::task<void> {
    bb::scope s;
    for (int i = 3; i >= 1; --i)
      s.spawn([](bb::test::manual_clock& k, std::vector<int>& out, int n) -> bb::task<void> {
        co_await k.sleep_for(std::chrono::seconds(n));
        out.push_back(n);
      }(clk, o, i));
    CHECK(s.active() == 3);
    co_await s.join();
    j = true;
  }(c, order, joined);
  auto h = main.release();
  h.resume();
  CHECK_FALSE(joined);
  c.advance(std::chrono::seconds(2));
  CHECK(order == std::vector<int>{1, 2});
  CHECK_FALSE(joined);
  c.advance(std::chrono::seconds(1));
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(joined);
  CHECK(h.done());
  h.destroy();
}

TEST_CASE("scope request_stop cancels sleeping tasks", "[core][scope]") {
  bb::test::manual_clock c;
  std::vector<std::error_code> seen;
  auto main = [](bb::test::manual_clock& clk, std::vector<std::error_code>& out) -> bb::task<void> {
    bb::scope s;
    for (int i = 0; i < 2; ++i)
      s.spawn([](bb::test::manual_clock& k, std::vector<std::error_code>& o) -> bb::task<void> {
        o.push_back(co_await k.sleep_for(std::chrono::hours(1)));
      }(clk, out));
    s.request_stop();
    co_await s.join();
  }(c, seen);
  auto h = main.release();
  h.resume();
  CHECK(seen.empty());  // cancelled sleepers resume from the clock, not inside request_stop()
  c.advance({});
  REQUIRE(h.done());
  h.destroy();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == std::errc::operation_canceled);
  CHECK(seen[1] == std::errc::operation_canceled);
  CHECK(c.pending() == 0);
}

TEST_CASE("scope rethrows the first exception of a spawned task at join", "[core][scope]") {
  auto main = []() -> bb::task<void> {
    bb::scope s;
    s.spawn(fail());
    co_await s.join();
  };
  CHECK_THROWS_WITH(bb::sync_wait(main()), "boom");
}
