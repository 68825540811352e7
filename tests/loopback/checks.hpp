#pragma once
// Assertions the loopback test files share.

#include "http_client.hpp"
#include "server_process.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace bb_test {

/// What every echoed request of the CS110L suite must show.
inline void check_echo(const http_response& r, const std::string& request_line) {
  INFO("response: " << r.status_line << "\n" << r.body);
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Catch::Contains(request_line));
  CHECK_THAT(r.body, Catch::Contains("x-sent-by: balancebeam-tests"));
  CHECK_THAT(r.body, Catch::Contains("x-forwarded-for: 127.0.0.1"));
}

/// SIGTERM, then the server must exit 0 within stop_timeout.
inline void stop_cleanly(server_process& server) {
  const auto st = server.terminate();
  INFO("stderr:\n" << server.child().err());
  REQUIRE(st.has_value());
  CHECK(st->to_string() == "exit 0");
}

}  // namespace bb_test
