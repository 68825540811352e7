#include <bb/core/cancel.hpp>
#include <bb/core/task.hpp>
#include <bb/core/with_cancel.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <system_error>

#include "manual_clock.hpp"

namespace {

bb::task<std::error_code> nap(bb::test::manual_clock& k, std::chrono::seconds d) { co_return co_await k.sleep_for(d); }

/// Runs `t` as the body of a task whose own token is `outer`'s.
void start(bb::task<void>& t, bb::cancel_source& outer) {
  auto h = t.release();
  h.promise().token_ = outer.token();
  t = bb::task<void>(h);
  h.resume();
}

}  // namespace

TEST_CASE("with_cancel runs the task to its end when nothing stops it", "[core][with_cancel]") {
  bb::test::manual_clock c;
  bb::cancel_source cut;
  std::error_code got = std::make_error_code(std::errc::io_error);
  auto main = [](bb::test::manual_clock& k, bb::cancel_source& s, std::error_code& out) -> bb::task<void> {
    out = co_await bb::with_cancel(nap(k, std::chrono::seconds(5)), s);
  }(c, cut, got);
  auto h = main.release();
  h.resume();
  c.advance(std::chrono::seconds(5));
  REQUIRE(h.done());
  h.destroy();
  CHECK_FALSE(got);
}

TEST_CASE("with_cancel stops the task, and only it, when its source is stopped", "[core][with_cancel]") {
  bb::test::manual_clock c;
  bb::cancel_source cut;
  std::error_code inner, after;
  auto main = [](bb::test::manual_clock& k, bb::cancel_source& s, std::error_code& in,
                 std::error_code& next) -> bb::task<void> {
    in = co_await bb::with_cancel(nap(k, std::chrono::seconds(5)), s);
    next = co_await k.sleep_for(std::chrono::seconds(1));  // the awaiting task goes on
  }(c, cut, inner, after);
  auto h = main.release();
  h.resume();
  cut.request_stop();
  c.advance({});
  CHECK(inner == std::errc::operation_canceled);
  c.advance(std::chrono::seconds(1));
  REQUIRE(h.done());
  h.destroy();
  CHECK_FALSE(after);
  CHECK(c.pending() == 0);
}

TEST_CASE("with_cancel passes the awaiting task's cancellation on", "[core][with_cancel]") {
  bb::test::manual_clock c;
  bb::cancel_source outer, cut;
  std::error_code inner;
  auto main = [](bb::test::manual_clock& k, bb::cancel_source& s, std::error_code& in) -> bb::task<void> {
    in = co_await bb::with_cancel(nap(k, std::chrono::seconds(5)), s);
  }(c, cut, inner);
  start(main, outer);
  outer.request_stop();
  c.advance({});
  CHECK(inner == std::errc::operation_canceled);
  CHECK(cut.stop_requested());  // a source, once stopped, stays stopped
  CHECK(c.pending() == 0);
}
