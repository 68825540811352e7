// The built balancebeam's limits, each set by its flag: head size and field count (431),
// body size (413), concurrent connections (closed at once past the limit), and pipelined
// requests (held back by flow control, never refused).

#include "checks.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace bb_test;

namespace {

using clock_type = std::chrono::steady_clock;

std::size_t count_lines_with(const std::string& text, const std::string& what) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(what) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("balancebeam answers 431 to a head over --max-header-bytes and serves one under it",
          "[loopback][balancebeam][limit]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--max-header-bytes", "1024"});

  http_client fits(proxy.port());
  check_echo(fits.request("GET", "/fits", {}, "x-pad: " + std::string(800, 'a') + "\r\n"), "GET /fits HTTP/1.1");

  http_client big(proxy.port());
  big.send_raw(http_client::format("GET", "/big", {}, "x-pad: " + std::string(2000, 'a') + "\r\n"));
  const auto r = big.read_response();
  CHECK(r.status == 431);
  // Closed then, but with the head's unread rest in its buffer the proxy's close is a
  // reset, which closed_by_peer() does not count as orderly: the header must say it.
  CHECK(r.header("connection") == "close");
  CHECK(upstream.client_requests() == 1);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam answers 431 to a head with more fields than --max-headers", "[loopback][balancebeam][limit]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--max-headers", "5"});

  // Host and x-sent-by, and three more: five.
  http_client fits(proxy.port());
  check_echo(fits.request("GET", "/five", {}, "a: 1\r\nb: 2\r\nc: 3\r\n"), "GET /five HTTP/1.1");

  http_client many(proxy.port());
  many.send_raw(http_client::format("GET", "/six", {}, "a: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n"));
  const auto r = many.read_response();
  CHECK(r.status == 431);
  CHECK(many.closed_by_peer());
  CHECK(upstream.client_requests() == 1);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam answers 413 to a body over --max-body-bytes, by Content-Length or chunked",
          "[loopback][balancebeam][limit]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--max-body-bytes", "10"});

  http_client fits(proxy.port());
  const auto ok = fits.post("/ten", "0123456789");
  check_echo(ok, "POST /ten HTTP/1.1");
  CHECK_THAT(ok.body, Catch::EndsWith("\n\n0123456789"));

  http_client declared(proxy.port());
  declared.send_raw(http_client::format("POST", "/eleven", "0123456789a"));
  CHECK(declared.read_response().status == 413);
  CHECK(declared.closed_by_peer());

  http_client chunked(proxy.port());
  chunked.send_raw(
      "POST /chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n"
      "Transfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n");
  CHECK(chunked.read_response().status == 413);
  CHECK(chunked.closed_by_peer());
  CHECK(upstream.client_requests() == 1);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam's 413 reaches a client that sends its whole body before it reads",
          "[loopback][balancebeam][limit]") {
  // The proxy answers at the head and closes; had it closed with the body's bytes unread,
  // the kernel would reset the connection and this client's sends would fail before it
  // ever read the answer. It lingers instead: shuts down its side, drops what comes.
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--max-body-bytes", "1048576"});
  auto s = try_connect(proxy.port());
  REQUIRE(s);
  constexpr std::size_t declared = 8u << 20;
  send_all(s.get(),
           "POST /big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(declared) + "\r\n\r\n");
  const std::string chunk(64 * 1024, 'x');
  std::size_t sent = 0;
  int send_errno = 0;
  while (sent < declared) {
    const auto n = ::send(s.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      send_errno = errno;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  INFO("sent " << sent << " of " << declared << " body bytes; errno " << send_errno);
  CHECK(sent == declared);
  wire_reader in(s.get());
  const auto head = in.read_through("\r\n\r\n");
  REQUIRE(head);
  CHECK(parse_head(*head).first_line == "HTTP/1.1 413 Content Too Large");
  CHECK(upstream.client_requests() == 0);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam closes connections past --max-connections at once, logs that sparingly, serves the others",
          "[loopback][balancebeam][limit]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--max-connections", "2", "--threads", "2"});

  std::vector<std::unique_ptr<http_client>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<http_client>(proxy.port()));
    check_echo(held.back()->get("/held"), "GET /held HTTP/1.1");
  }

  // Six more, each closed at once without a byte: one warn line per worker at most.
  for (int i = 0; i < 6; ++i) {
    auto s = try_connect(proxy.port());
    REQUIRE(s);
    wire_reader in(s.get());
    const auto started = clock_type::now();
    CHECK(in.closed_by_peer());
    CHECK(clock_type::now() - started < std::chrono::milliseconds(500));
  }
  for (auto& c : held) check_echo(c->get("/still"), "GET /still HTTP/1.1");

  // Room again once a held connection is gone (its session ends when it sees the close).
  held.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto s = try_connect(proxy.port());
    REQUIRE(s);
    send_all(s.get(), http_client::format("GET", "/again"));
    wire_reader in(s.get());
    try {
      served = in.read_through("\r\n\r\n").value_or("").starts_with("HTTP/1.1 200");
    } catch (const std::runtime_error&) {
      // closed at once: not yet
    }
  }
  CHECK(served);

  stop_cleanly(proxy);
  const auto err = proxy.child().err();
  INFO(err);
  const auto warned = count_lines_with(err, "--max-connections");
  CHECK(warned >= 1);
  CHECK(warned <= 2);
}

// The proxy reads a connection's next bytes only when no complete request is left in its
// buffer, so a client that pipelines far ahead is held back by TCP flow control.
TEST_CASE("balancebeam answers 2,000 pipelined requests in order without refusing any",
          "[loopback][balancebeam][limit]") {
  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});
  http_client client(proxy.port());

  constexpr int n = 2000;
  std::string all;
  for (int i = 0; i < n; ++i) all += http_client::format("GET", "/p" + std::to_string(i));
  // Sent from another thread: the proxy stops reading while its responses are unread.
  std::thread writer([&] { client.send_raw(all); });
  int in_order = 0;
  for (int i = 0; i < n; ++i) {
    const auto r = client.read_response();
    if (r.status == 200 && r.body.starts_with("GET /p" + std::to_string(i) + " HTTP/1.1\n")) ++in_order;
  }
  writer.join();
  CHECK(in_order == n);
  CHECK(upstream.client_requests() == static_cast<std::size_t>(n));
  stop_cleanly(proxy);
}
