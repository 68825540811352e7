// bb::cancel_source and bb::cancel_callback: when callbacks run, and that they never run late.

#include <bb/core/cancel.hpp>
#include <catch2/catch.hpp>

TEST_CASE("cancel_callback runs at once when stop was already requested", "[core][cancel]") {
  bb::cancel_source src;
  src.request_stop();
  int runs = 0;
  bb::cancel_callback cb(src.token(), [&runs]() noexcept { ++runs; });
  CHECK(runs == 1);
  src.request_stop();
  CHECK(runs == 1);
}

TEST_CASE("cancel_callback never runs after it is destroyed", "[core][cancel]") {
  bb::cancel_source src;
  int runs = 0;
  {
    bb::cancel_callback cb(src.token(), [&runs]() noexcept { ++runs; });
  }
  src.request_stop();
  CHECK(runs == 0);
}
