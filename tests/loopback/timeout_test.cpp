// The built balancebeam's timeouts, each shortened by its flag: a slow client gets 408
// while a response can still be sent, a silent upstream 504, a stalled body ends its
// exchange, an idle keep-alive connection is closed without a word.

#include "checks.hpp"
#include "test_server.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

using namespace bb_test;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

/// Reads whatever the connection still sends until it ends (close or reset).
std::string read_until_close(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

/// An upstream that accepts and reads, and never answers.
test_server silent_upstream() {
  return test_server([](int fd) {
    char buf[4096];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {}
  });
}

/// How late after its deadline the proxy may act: the sweep runs every 100 ms; the rest is
/// room for a loaded machine.
constexpr double slack_s = 0.6;

}  // namespace

TEST_CASE("balancebeam answers 408 and closes when a request head is not whole by --client-header-timeout",
          "[loopback][balancebeam][timeout]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--client-header-timeout", "1"});

  // The healthy request first: the flag does not hurt a client that sends its head.
  http_client good(proxy.port());
  check_echo(good.get("/fine"), "GET /fine HTTP/1.1");

  auto s = try_connect(proxy.port());
  REQUIRE(s);
  const auto started = clock_type::now();
  send_all(s.get(), "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  const auto reply = read_until_close(s.get());
  const auto took = seconds_since(started);
  INFO(reply << "after " << took << " s");
  CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 408 Request Timeout\r\n"));
  CHECK_THAT(reply, Catch::Contains("Connection: close\r\n"));
  CHECK(took >= 0.95);
  CHECK(took <= 1 + slack_s);
  CHECK(upstream.client_requests() == 1);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam closes a connection that sends nothing at --client-header-timeout, without a response",
          "[loopback][balancebeam][timeout]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--client-header-timeout", "1"});
  auto s = try_connect(proxy.port());
  REQUIRE(s);
  const auto started = clock_type::now();
  const auto reply = read_until_close(s.get());
  const auto took = seconds_since(started);
  INFO("after " << took << " s");
  CHECK(reply.empty());
  CHECK(took >= 0.95);
  CHECK(took <= 1 + slack_s);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam closes an idle keep-alive connection at --client-idle-timeout, without a response",
          "[loopback][balancebeam][timeout]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--client-idle-timeout", "1"});
  http_client client(proxy.port());
  check_echo(client.get("/once"), "GET /once HTTP/1.1");
  const auto started = clock_type::now();
  CHECK(client.closed_by_peer());  // an orderly close with no bytes before it
  const auto took = seconds_since(started);
  INFO("after " << took << " s");
  CHECK(took >= 0.9);
  CHECK(took <= 1 + slack_s);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam answers 504 when an upstream sends no response head by --upstream-response-timeout",
          "[loopback][balancebeam][timeout]") {
  auto upstream = silent_upstream();
  auto proxy = start_balancebeam({upstream.address()},
                                 {"--upstream-response-timeout", "1", "--active-health-check-interval", "0"});
  http_client client(proxy.port());
  const auto started = clock_type::now();
  const auto r = client.get("/never");
  const auto took = seconds_since(started);
  INFO(r.status_line << "\n" << r.body << "after " << took << " s");
  CHECK(r.status == 504);
  CHECK(took >= 0.95);
  CHECK(took <= 1 + slack_s);
  // The request had no body: the client's connection is still in step and stays open.
  CHECK_FALSE(r.header("connection").has_value());
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam answers 408 when a request body stalls for --body-idle-timeout",
          "[loopback][balancebeam][timeout]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--body-idle-timeout", "1"});
  auto s = try_connect(proxy.port());
  REQUIRE(s);
  send_all(s.get(),
           "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\nContent-Length: 10\r\n\r\nabc");
  // Bytes that keep moving hold the deadline off: 1.5 s in all, never 1 s without a byte.
  std::this_thread::sleep_for(std::chrono::milliseconds(750));
  send_all(s.get(), "de");
  std::this_thread::sleep_for(std::chrono::milliseconds(750));
  send_all(s.get(), "f");
  const auto started = clock_type::now();
  const auto reply = read_until_close(s.get());
  const auto took = seconds_since(started);
  INFO(reply << "after " << took << " s");
  CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 408 Request Timeout\r\n"));
  CHECK(took >= 0.95);
  CHECK(took <= 1 + slack_s);
  CHECK(upstream.client_requests() == 0);  // it never had the whole request
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam closes the client's connection when a response body stalls for --body-idle-timeout",
          "[loopback][balancebeam][timeout]") {
  // A head and 5 of 100 body bytes, then silence.
  test_server stalling([](int fd) {
    wire_reader in(fd);
    if (!in.read_through("\r\n\r\n")) return;
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello");
    char buf[256];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {}
  });
  auto proxy =
      start_balancebeam({stalling.address()}, {"--body-idle-timeout", "1", "--active-health-check-interval", "0"});
  auto s = try_connect(proxy.port());
  REQUIRE(s);
  const auto started = clock_type::now();
  send_all(s.get(), "GET /stall HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto reply = read_until_close(s.get());
  const auto took = seconds_since(started);
  INFO(reply << "\nafter " << took << " s");
  // What was sent stays as it was: the close is the only way to say the body is cut.
  CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 200 OK\r\n"));
  CHECK_THAT(reply, Catch::EndsWith("\r\n\r\nhello"));
  CHECK(took >= 0.95);
  CHECK(took <= 1 + slack_s);
  stop_cleanly(proxy);
  // The log names the timeout, not the cancelled read it ended.
  CHECK_THAT(proxy.child().err(), Catch::Contains("broke off a response: no bytes for 1000 ms (--body-idle-timeout)"));
}
