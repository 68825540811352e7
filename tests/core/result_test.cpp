// bb::result: a value or the error that explains its absence; value() is checked.

#include <bb/core/error.hpp>
#include <bb/core/result.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <system_error>

TEST_CASE("result holds a value or an error, never both", "[core][result]") {
  bb::result<std::string> ok(std::string("fine"));
  CHECK(ok.has_value());
  CHECK_FALSE(ok.error());
  CHECK(ok.value() == "fine");
  CHECK(ok->size() == 4);
  const bb::result<std::string> bad(std::make_error_code(std::errc::connection_refused));
  CHECK_FALSE(bad.has_value());
  CHECK(bad.error() == std::errc::connection_refused);
}

TEST_CASE("result::value throws the error when there is no value", "[core][result]") {
  bb::result<int> bad(make_error_code(bb::errc::timed_out));
  try {
    static_cast<void>(bad.value());
    FAIL("value() returned without a value");
  } catch (const std::system_error& e) { CHECK(e.code() == bb::errc::timed_out); }
  CHECK_THROWS_AS(std::move(bad).value(), std::system_error);
}
