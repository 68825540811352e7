// X-Request-Id through the built balancebeam: kept when the client sent one valid id, made
// otherwise; forwarded upstream as exactly one field, returned to the client (on the
// proxy's own answers too) and written in the access line, text or JSON.

#include "checks.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <string>

using namespace bb_test;

namespace {

int occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool made_by_proxy(const std::string& id) { return std::regex_match(id, std::regex("[0-9a-f]{32}")); }

}  // namespace

TEST_CASE("balancebeam keeps one valid client X-Request-Id and makes one otherwise, upstream and back",
          "[loopback][balancebeam][request_id]") {
  test_upstream up;  // echoes the request head it received in its body, names lowercased
  auto proxy = start_balancebeam({up.address()}, {"--threads", "1"});

  SECTION("none sent: a new id, the same both ways") {
    const auto r = http_client(proxy.port()).get("/none");
    REQUIRE(r.status == 200);
    const auto id = r.header("x-request-id").value_or("");
    CHECK(made_by_proxy(id));
    CHECK(occurrences(r.body, "x-request-id: ") == 1);
    CHECK_THAT(r.body, Catch::Contains("x-request-id: " + id));
  }
  SECTION("a valid one: kept") {
    const auto r = http_client(proxy.port()).request("GET", "/kept", {}, "X-Request-Id: trace-01:ab\r\n");
    CHECK(r.header("x-request-id") == "trace-01:ab");
    CHECK(occurrences(r.body, "x-request-id: ") == 1);
    CHECK_THAT(r.body, Catch::Contains("x-request-id: trace-01:ab"));
  }
  SECTION("an invalid one, or two: replaced by one new id") {
    const auto extra = GENERATE(as<std::string>{}, "X-Request-Id: has space\r\n",
                                "X-Request-Id: a\r\nX-Request-Id: b\r\n", "X-Request-Id: \r\n");
    INFO("sent: " << extra);
    const auto r = http_client(proxy.port()).request("GET", "/replaced", {}, extra);
    const auto id = r.header("x-request-id").value_or("");
    CHECK(made_by_proxy(id));
    CHECK(occurrences(r.body, "x-request-id: ") == 1);
    CHECK_THAT(r.body, Catch::Contains("x-request-id: " + id));
  }
  SECTION("the id is in the access line") {
    const auto r = http_client(proxy.port()).request("GET", "/logged", {}, "X-Request-Id: log-me-42\r\n");
    CHECK(r.status == 200);
    stop_cleanly(proxy);
    CHECK_THAT(proxy.child().err(), Catch::Contains("\"GET /logged\" 200 " + up.address()));
    CHECK_THAT(proxy.child().err(), Catch::Contains("ms id=log-me-42\n"));
    return;
  }
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam's own answers carry the request's id too", "[loopback][balancebeam][request_id]") {
  test_upstream up;
  auto proxy = start_balancebeam({up.address()}, {"--threads", "1", "--active-health-check-interval", "0"});
  up.stop();  // nothing listens: 502
  const auto r = http_client(proxy.port()).request("GET", "/gone", {}, "X-Request-Id: missing-upstream\r\n");
  CHECK(r.status == 502);
  CHECK(r.header("x-request-id") == "missing-upstream");
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam with --access-log-format json writes each request as one JSON object with time, level and id",
          "[loopback][balancebeam][request_id]") {
  test_upstream up;
  auto proxy = start_balancebeam({up.address()}, {"--threads", "1", "--access-log-format", "json"});
  const auto r = http_client(proxy.port()).request("GET", "/j?x=1", {}, "X-Request-Id: json-7\r\n");
  CHECK(r.status == 200);
  stop_cleanly(proxy);
  const auto err = proxy.child().err();
  INFO(err);
  static const std::regex line(
      R"re(\n\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"info","type":"access","client":"127\.0\.0\.1",)re"
      R"re("method":"GET","target":"/j\?x=1","status":200,"upstream":"127\.0\.0\.1:\d+","duration_ms":\d+\.\d{3},)re"
      R"re("request_id":"json-7"\}\n)re");
  CHECK(std::regex_search(err, line));
}
