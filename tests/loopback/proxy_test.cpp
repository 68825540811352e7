// What a user of a production proxy expects of the built balancebeam beyond the CS110L
// suite: its own error answers, refusing ambiguous requests, pipelining, chunked bodies
// and a prompt, clean exit on SIGTERM.

#include "checks.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

using namespace bb_test;

TEST_CASE("balancebeam answers 502 with a one-line text body when its only upstream is down",
          "[loopback][balancebeam]") {
  port_reservation nobody_listens;  // bound, never listening: connections are refused
  auto proxy = start_balancebeam({nobody_listens.address()});

  http_client client(proxy.port());
  const auto r = client.get("/down");
  INFO(r.status_line << "\n" << r.body);
  CHECK(r.status_line == "HTTP/1.1 502 Bad Gateway");
  CHECK(r.header("content-type") == "text/plain");
  REQUIRE(r.header("content-length").has_value());
  CHECK(*r.header("content-length") == std::to_string(r.body.size()));
  CHECK_FALSE(r.body.empty());
  CHECK(std::count(r.body.begin(), r.body.end(), '\n') == 1);
  CHECK_THAT(r.body, Catch::EndsWith("\n"));

  stop_cleanly(proxy);
}

TEST_CASE("balancebeam answers 502 at once when every upstream is down", "[loopback][balancebeam]") {
  port_reservation down1;  // bound, never listening: connections are refused
  port_reservation down2;
  auto proxy = start_balancebeam({down1.address(), down2.address()});

  // The first request finds both refusing and ejects them; the second finds none live.
  http_client client(proxy.port());
  for (const char* path : {"/first", "/second"}) {
    const auto started = std::chrono::steady_clock::now();
    const auto r = client.get(path);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(path << ": " << r.status_line << "\n" << r.body);
    CHECK(r.status == 502);
    CHECK(r.header("content-type") == "text/plain");
    CHECK(std::count(r.body.begin(), r.body.end(), '\n') == 1);
    CHECK_THAT(r.body, Catch::EndsWith("\n"));
    CHECK(took < std::chrono::seconds(1));
  }
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam appends the client's address to an X-Forwarded-For it received", "[loopback][balancebeam]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});

  http_client client(proxy.port());
  const auto r = client.request("GET", "/forwarded", {}, "X-Forwarded-For: 10.0.0.1\r\n");
  INFO(r.body);
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Catch::Contains("\nx-forwarded-for: 10.0.0.1, 127.0.0.1\n"));
  // One field, not the old one and a new one.
  const auto first = r.body.find("x-forwarded-for:");
  CHECK(r.body.find("x-forwarded-for:", first + 1) == std::string::npos);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam refuses a malformed request with 400 and closes only that connection",
          "[loopback][balancebeam]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});

  http_client good(proxy.port());
  check_echo(good.get("/before"), "GET /before HTTP/1.1");

  http_client bad(proxy.port());
  bad.send_raw("this is not http\r\n\r\n");
  const auto r = bad.read_response();
  CHECK(r.status == 400);
  CHECK(r.header("connection") == "close");
  CHECK(bad.closed_by_peer());

  // The connection that was open all along keeps working.
  check_echo(good.get("/after"), "GET /after HTTP/1.1");
  CHECK(upstream.requests() == 2);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam refuses a request with both Content-Length and Transfer-Encoding with 400",
          "[loopback][balancebeam]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});

  http_client client(proxy.port());
  client.send_raw(
      "POST /smuggle HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n"
      "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  const auto r = client.read_response();
  CHECK(r.status == 400);
  CHECK(client.closed_by_peer());
  CHECK(upstream.requests() == 0);  // nothing of it reached the upstream
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam answers pipelined requests on one connection in order", "[loopback][balancebeam]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});

  http_client client(proxy.port());
  client.send_raw(http_client::format("GET", "/p1") + http_client::format("POST", "/p2", "two") +
                  http_client::format("GET", "/p3"));
  check_echo(client.read_response(), "GET /p1 HTTP/1.1");
  const auto second = client.read_response();
  check_echo(second, "POST /p2 HTTP/1.1");
  CHECK_THAT(second.body, Catch::EndsWith("\n\ntwo"));
  check_echo(client.read_response(), "GET /p3 HTTP/1.1");

  CHECK(upstream.requests() == 3);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam passes a chunked request body through", "[loopback][balancebeam]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});

  http_client client(proxy.port());
  client.send_raw(
      "POST /chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "5\r\nHello\r\n7\r\n world!\r\n0\r\n\r\n");
  const auto r = client.read_response();
  check_echo(r, "POST /chunked HTTP/1.1");
  CHECK_THAT(r.body, Catch::Contains("transfer-encoding: chunked"));
  CHECK_THAT(r.body, Catch::EndsWith("\n\nHello world!"));

  // The connection is still in step for the next request.
  check_echo(client.get("/next"), "GET /next HTTP/1.1");
  CHECK(upstream.requests() == 2);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam passes an upstream's 500 through unchanged", "[loopback][balancebeam]") {
  test_upstream upstream(test_upstream::kind::error);
  auto proxy = start_balancebeam({upstream.address()});

  http_client client(proxy.port());
  const auto r = client.get("/fails");
  CHECK(r.status == 500);
  CHECK(r.body.empty());
  CHECK(upstream.requests() == 1);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam exits 0 promptly on SIGTERM with an idle keep-alive connection open",
          "[loopback][balancebeam]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});

  http_client idle(proxy.port());
  check_echo(idle.get("/once"), "GET /once HTTP/1.1");

  // Promptly: an idle connection is closed at once, not waited for until the 10 s
  // shutdown grace or the 60 s idle timeout. (The drain itself takes about 0.1 s; the
  // bound leaves room for a loaded CI machine.)
  const auto started = std::chrono::steady_clock::now();
  const auto st = proxy.terminate(std::chrono::seconds(5));
  const auto took = std::chrono::steady_clock::now() - started;
  INFO("stderr:\n" << proxy.child().err());
  REQUIRE(st.has_value());
  CHECK(st->to_string() == "exit 0");
  CHECK(took < std::chrono::seconds(3));
  CHECK(idle.closed_by_peer());
}

// A supervisor that stops a proxy right after its port answers must see a drain (exit 0),
// not a kill: the handler is installed before any listener exists.
TEST_CASE("balancebeam exits 0 on a SIGTERM that arrives as soon as it accepts connections",
          "[loopback][balancebeam]") {
  test_upstream upstream;
  for (int attempt = 0; attempt < 10; ++attempt) {
    port_reservation port;
    child_process proxy(BB_BALANCEBEAM_PATH, {"--bind", port.address(), "--upstream", upstream.address()});
    const auto deadline = std::chrono::steady_clock::now() + start_timeout;
    while (!try_connect(port.port(), std::chrono::milliseconds(500))) {
      REQUIRE_FALSE(proxy.poll().has_value());
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    proxy.signal(SIGTERM);
    const auto st = proxy.wait_for(stop_timeout);
    INFO("attempt " << attempt << "; stderr:\n" << proxy.err());
    REQUIRE(st.has_value());
    REQUIRE(st->to_string() == "exit 0");
  }
}
