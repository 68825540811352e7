// bb::with_timeout against the test clock.

#include <bb/core/sync_wait.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <catch2/catch.hpp>
#include <vector>

#include "manual_clock.hpp"

TEST_CASE("with_timeout gives nullopt when the clock wins and the value otherwise", "[core][timeout]") {
  bb::test::manual_clock c;
  std::vector<std::optional<int>> results;
  auto work = [](bb::test::manual_clock& k, int secs) -> bb::task<int> {
    co_await k.sleep_for(std::chrono::seconds(secs));
    co_return secs;
  };
  auto main = [](bb::test::manual_clock& k, auto w, auto& out) -> bb::task<void> {
    out.push_back(co_await bb::with_timeout(k, std::chrono::seconds(3), w(k, 1)));
    out.push_back(co_await bb::with_timeout(k, std::chrono::seconds(3), w(k, 9)));
  }(c, work, results);
  auto h = main.release();
  h.resume();
  c.advance(std::chrono::seconds(10));
  REQUIRE(h.done());
  h.destroy();
  REQUIRE(results.size() == 2);
  CHECK(results[0] == 1);
  CHECK_FALSE(results[1].has_value());
  CHECK(c.now().time_since_epoch() == std::chrono::seconds(10));
}
