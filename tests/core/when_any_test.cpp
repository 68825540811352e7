// bb::when_any: the first result wins, the loser is cancelled, outer cancellation reaches both.

#include <bb/core/sync_wait.hpp>
#include <bb/core/task.hpp>
#include <bb/core/when_any.hpp>
#include <catch2/catch.hpp>

#include "manual_clock.hpp"

TEST_CASE("when_any yields the first result and cancels the loser", "[core][when_any]") {
  bb::test::manual_clock c;
  std::optional<std::variant<std::error_code, int>> got;
  std::error_code loser;
  auto main = [](bb::test::manual_clock& clk, auto& out, std::error_code& l) -> bb::task<void> {
    auto slow = [](bb::test::manual_clock& k, std::error_code& e) -> bb::task<std::error_code> {
      e = co_await k.sleep_for(std::chrono::seconds(10));
      co_return e;
    }(clk, l);
    auto fast = [](bb::test::manual_clock& k) -> bb::task<int> {
      co_await k.sleep_for(std::chrono::seconds(1));
      co_return 7;
    }(clk);
    out = co_await bb::when_any(std::move(slow), std::move(fast));
  }(c, got, loser);
  auto h = main.release();
  h.resume();
  c.advance(std::chrono::seconds(1));
  REQUIRE(h.done());
  h.destroy();
  REQUIRE(got);
  REQUIRE(got->index() == 1);
  CHECK(std::get<1>(*got) == 7);
  CHECK(loser == std::errc::operation_canceled);
  CHECK(c.pending() == 0);
}

TEST_CASE("when_any passes an outer cancellation to both arms", "[core][when_any]") {
  bb::test::manual_clock c;
  int cancelled = 0;
  auto arm = [](bb::test::manual_clock& k, int& n) -> bb::task<void> {
    if (co_await k.sleep_for(std::chrono::seconds(5)) == std::errc::operation_canceled) ++n;
  };
  bb::cancel_source outer;
  auto main = [](bb::task<void> a, bb::task<void> b) -> bb::task<void> {
    co_await bb::when_any(std::move(a), std::move(b));
  }(arm(c, cancelled), arm(c, cancelled));
  auto h = main.release();
  h.promise().token_ = outer.token();
  h.resume();
  outer.request_stop();
  CHECK(cancelled == 0);
  c.advance({});
  REQUIRE(h.done());
  h.destroy();
  CHECK(cancelled == 2);
}
