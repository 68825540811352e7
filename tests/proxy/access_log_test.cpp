// The access line in both formats (--access-log-format): the text one as it has been plus
// the id, and JSON with every field, escaped.

#include <bb/proxy/access_log.hpp>

#include <catch2/catch.hpp>

TEST_CASE("append_access writes the text line with the request id last", "[proxy][access_log]") {
  bb::line l;
  bb::append_access(l,
                    {.client = "10.0.0.7",
                     .request_line = "GET /a?b=1",
                     .status = 200,
                     .upstream = "10.0.1.1:80",
                     .duration_us = 1234,
                     .request_id = "abc"},
                    bb::access_log_format::text);
  CHECK(l.s == "10.0.0.7 \"GET /a?b=1\" 200 10.0.1.1:80 1.234ms id=abc");
  bb::line none;
  bb::append_access(
      none,
      {.client = "::1", .request_line = "GET /", .status = 502, .upstream = {}, .duration_us = 7, .request_id = "x"},
      bb::access_log_format::text);
  CHECK(none.s == "::1 \"GET /\" 502 - 0.007ms id=x");
}

TEST_CASE("append_access writes one JSON object, escaping what needs it", "[proxy][access_log]") {
  bb::line l;
  bb::append_access(l,
                    {.client = "10.0.0.7",
                     .request_line = "POST /q\"x\\y",
                     .status = 504,
                     .upstream = "up:80",
                     .duration_us = 30000001,
                     .request_id = "r-1"},
                    bb::access_log_format::json);
  CHECK(l.s ==
        "{\"type\":\"access\",\"client\":\"10.0.0.7\",\"method\":\"POST\",\"target\":\"/q\\\"x\\\\y\",\"status\":504,"
        "\"upstream\":\"up:80\",\"duration_ms\":30000.001,\"request_id\":\"r-1\"}");
  bb::line none;
  bb::append_access(
      none,
      {.client = "c", .request_line = "GET /", .status = 502, .upstream = {}, .duration_us = 0, .request_id = "i"},
      bb::access_log_format::json);
  CHECK(none.s ==
        "{\"type\":\"access\",\"client\":\"c\",\"method\":\"GET\",\"target\":\"/\",\"status\":502,\"upstream\":null,"
        "\"duration_ms\":0.000,\"request_id\":\"i\"}");
}
