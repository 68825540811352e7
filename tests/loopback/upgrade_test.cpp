// Protocol upgrades (RFC 9110 §7.8) through the built balancebeam: a request with
// `Connection: upgrade` and `Upgrade` goes upstream with both; a 101 turns the connection
// into a tunnel that carries bytes both ways, passes a half close on, and is cut when it
// goes quiet; any other answer is an ordinary response.

#include "bulk_body.hpp"
#include "checks.hpp"
#include "quiet_proxy.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

using namespace bb_test;

namespace {

/// An upstream that speaks a toy "echo" protocol after an upgrade, websocket-like:
/// - a request with `Upgrade: echo` and `Connection: upgrade`: 101, then "welcome\n" in
///   the same write, then every byte it receives is sent back; at end of stream it sends
///   "bye\n" and closes.
/// - GET /rogue: 101 whether asked or not.
/// - anything else: 200 "no upgrade\n", keep-alive.
class echo_upstream {
public:
  echo_upstream() : server_([this](int fd) { serve(fd); }) {}
  [[nodiscard]] std::string address() const { return server_.address(); }

  /// The last request head that asked to upgrade, as received.
  [[nodiscard]] message_head upgrade_head() const {
    std::lock_guard lock(m_);
    return upgrade_head_;
  }
  /// Requests answered 200 that carried an Upgrade field.
  [[nodiscard]] int upgrade_fields_ignored() const noexcept { return ignored_.load(); }
  /// Tunnels whose connection has ended.
  [[nodiscard]] int tunnels_ended() const noexcept { return ended_.load(); }

private:
  void serve(int fd) {
    each_request(fd, [&](const upstream_request& r, wire_reader& in) {
      const auto upgrade = find_field(r.head.fields, "upgrade");
      const auto connection = lower(find_field(r.head.fields, "connection").value_or(""));
      const bool asked = upgrade == "echo" && connection.find("upgrade") != std::string::npos;
      if (asked || (r.method == "GET" && r.target == "/rogue")) {
        if (asked) {
          std::lock_guard lock(m_);
          upgrade_head_ = r.head;
        }
        send_all(fd, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nwelcome\n");
        echo(fd, in);
        return false;
      }
      if (upgrade) ++ignored_;
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nno upgrade\n");
      return true;
    });
  }

  void echo(int fd, wire_reader& in) {
    try {
      for (auto v = in.peek(); !v.empty(); v = in.peek()) {
        send_all(fd, v);
        in.consume(v.size());
      }
      send_all(fd, "bye\n");
    } catch (const std::exception&) {  // cut: the proxy closed or reset the tunnel
    }
    ++ended_;
  }

  mutable std::mutex m_;
  message_head upgrade_head_;
  std::atomic<int> ignored_{0};
  std::atomic<int> ended_{0};
  test_server server_;  // last: its threads stop before the members they use go
};

constexpr std::string_view upgrade_request =
    "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\nConnection: Upgrade\r\n"
    "Upgrade: echo\r\n\r\n";

/// Connects to the proxy, asks to upgrade (with `early` right after the head) and reads the 101.
struct tunnel_client {
  tunnel_client(std::uint16_t port, std::string_view early = {}) : s(try_connect(port)), in(s.get()) {
    if (!s) throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    send_all(s.get(), std::string(upgrade_request) + std::string(early));
    const auto raw = in.read_through("\r\n\r\n");
    if (!raw) throw std::runtime_error("connection closed instead of a response");
    head = parse_head(*raw);
  }
  unique_fd s;
  wire_reader in;
  message_head head;
};

}  // namespace

TEST_CASE("balancebeam tunnels an upgraded connection both ways until each side has closed", "[loopback][upgrade]") {
  echo_upstream upstream;
  quiet_proxy proxy(upstream.address());

  tunnel_client c(proxy.port(), "early ");
  CHECK(c.head.first_line == "HTTP/1.1 101 Switching Protocols");
  CHECK(find_field(c.head.fields, "upgrade") == "echo");
  CHECK(lower(find_field(c.head.fields, "connection").value_or("")) == "upgrade");
  // The upstream saw the upgrade asked for, with the hop's usual additions.
  const auto asked = upstream.upgrade_head();
  CHECK(asked.first_line == "GET /chat HTTP/1.1");
  CHECK(find_field(asked.fields, "x-forwarded-for") == "127.0.0.1");

  // Bytes that came with the 101, then bytes the client sent right behind its request.
  CHECK(c.in.read_exactly(8) == "welcome\n");
  CHECK(c.in.read_exactly(6) == "early ");
  // Small messages, one at a time, as a chat would send them.
  for (int i = 0; i < 50; ++i) {
    const auto msg = "message " + std::to_string(i) + "\n";
    send_all(c.s.get(), msg);
    REQUIRE(c.in.read_exactly(msg.size()) == msg);
  }
  // 16 MiB sent while it comes back: both directions flow at once.
  constexpr std::uint64_t bulk = 16 << 20;
  std::jthread sender([&] { send_bulk_body(c.s.get(), bulk, false); });
  bulk_checker back;
  while (back.count() < bulk) {
    const auto v = c.in.peek();
    REQUIRE_FALSE(v.empty());
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(v.size(), bulk - back.count()));
    back.feed(v.substr(0, n));
    c.in.consume(n);
  }
  sender.join();
  CHECK(back.intact());

  // The client stops sending: the upstream hears of it and still gets its last word in.
  ::shutdown(c.s.get(), SHUT_WR);
  CHECK(c.in.read_to_end() == "bye\n");
  CHECK(eventually([&] { return upstream.tunnels_ended() == 1; }));
  c.s.reset();

  // The tunnel's upstream connection was closed, not pooled.
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam cuts a tunnel that goes quiet past its idle timeout", "[loopback][upgrade]") {
  echo_upstream upstream;
  // The tunnel's deadline is one of these, whichever the session gives its tunnel phase.
  quiet_proxy proxy(upstream.address(), {"--body-idle-timeout", "1", "--client-idle-timeout", "1"});

  tunnel_client c(proxy.port());
  REQUIRE(c.head.first_line == "HTTP/1.1 101 Switching Protocols");
  REQUIRE(c.in.read_exactly(8) == "welcome\n");
  // Traffic keeps it open past the timeout...
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    send_all(c.s.get(), "tick\n");
    REQUIRE(c.in.read_exactly(5) == "tick\n");
  }
  // ...silence ends it, on both sides.
  const auto quiet_from = std::chrono::steady_clock::now();
  std::string rest;
  try {
    rest = c.in.read_to_end();
  } catch (const std::exception&) {  // a reset is an end too
  }
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - quiet_from).count();
  INFO("cut after " << took << " s of silence");
  CHECK(rest.empty());
  CHECK(took > 0.9);
  CHECK(took < 3.0);
  CHECK(eventually([&] { return upstream.tunnels_ended() == 1; }));
  c.s.reset();
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam relays an answer other than 101 to an upgrade request as a normal response",
          "[loopback][upgrade]") {
  echo_upstream upstream;
  quiet_proxy proxy(upstream.address());

  http_client client(proxy.port());
  // The upstream declines (an Upgrade it does not speak) and answers as usual.
  const auto r = client.request("GET", "/plain", {}, "Connection: Upgrade\r\nUpgrade: h2c\r\n");
  CHECK(r.status == 200);
  CHECK(r.body == "no upgrade\n");
  CHECK(upstream.upgrade_fields_ignored() == 1);
  // The connection is still HTTP, in step for the next request.
  CHECK(client.get("/next").status == 200);
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam drops Upgrade from an HTTP/1.0 request", "[loopback][upgrade]") {
  echo_upstream upstream;
  quiet_proxy proxy(upstream.address());

  http_client client(proxy.port());
  client.send_raw("GET /chat HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
  const auto r = client.read_response();
  CHECK(r.status == 200);
  CHECK(r.body == "no upgrade\n");
  CHECK(upstream.upgrade_fields_ignored() == 0);  // none reached it
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam answers 502 to a 101 for a request that did not ask to upgrade", "[loopback][upgrade]") {
  echo_upstream upstream;
  quiet_proxy proxy(upstream.address());

  {
    http_client client(proxy.port());
    const auto r = client.get("/rogue");
    INFO(r.status_line << "\n" << r.body);
    CHECK(r.status == 502);
  }
  CHECK(eventually([&] { return upstream.tunnels_ended() >= 1; }));
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}
