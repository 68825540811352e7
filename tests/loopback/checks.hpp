#pragma once
// Assertions the loopback test files share.

#include "http_client.hpp"
#include "server_process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

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

/// Polls `pred` every 10 ms until it holds or `within` has passed; its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace bb_test
