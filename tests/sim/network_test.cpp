#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <catch2/catch.hpp>
#include <sim/clock.hpp>
#include <sim/network.hpp>
#include <sim/run.hpp>
#include <sim/transport.hpp>
#include <string>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

struct net_fixture {
  sim::executor ex;
  sim::trace tr;
  sim::network net{ex, tr, 42};
  sim::host& a = net.add_host("client", bb::ip_address::v4(10, 1, 0, 1), 1ms, 1ms);
  sim::host& b = net.add_host("server", bb::ip_address::v4(10, 0, 0, 1), 1ms, 1ms);
  sim::transport ta{net, a};
  sim::transport tb{net, b};
  sim::virtual_clock clock{ex, a};
  bb::endpoint server_ep{b.ip, 80};
  net_fixture() { net.jitter_fraction = 0; }
};

bb::task<std::string> read_all(sim::stream& s) {
  std::string out;
  char buf[64];
  for (;;) {
    auto r = co_await s.read_some(buf);
    if (r.ec) break;
    out.append(buf, r.bytes);
  }
  co_return out;
}

bb::task<void> echo_once(sim::acceptor& acc) {
  auto a = co_await acc.accept();
  if (!a) co_return;
  auto data = co_await read_all(a->stream);
  bb::const_buffer out[] = {data};
  co_await a->stream.write(out);
  a->stream.shutdown();
}

bb::task<std::string> ask(sim::transport& t, bb::endpoint ep, std::string msg) {
  auto s = co_await t.connect(ep);
  if (!s) co_return "error: " + s.error().message();
  bb::const_buffer out[] = {msg};
  co_await s->write(out);
  s->shutdown();
  co_return co_await read_all(*s);
}

bb::task<std::string> echo_round_trip(sim::transport& server, sim::transport& client, bb::endpoint ep) {
  auto acc = server.listen(ep);
  REQUIRE(acc);
  bb::scope s;
  s.spawn(echo_once(*acc));
  auto reply = co_await ask(client, ep, "hello, world");
  co_await s.join();
  co_return reply;
}

bb::task<std::error_code> read_error(sim::stream& s) {
  char buf[8];
  auto r = co_await s.read_some(buf);
  co_return r.ec;
}

}  // namespace

TEST_CASE("network carries bytes both ways and delivers FIN after them", "[sim][network]") {
  net_fixture f;
  CHECK(sim::run(f.ex, echo_round_trip(f.tb, f.ta, f.server_ep)) == "hello, world");
  // SYN, SYN-ACK, request + FIN, reply + FIN: four one-way trips of 2 ms each.
  CHECK(f.ex.now() == 8ms);
  CHECK(f.net.open_ends() == 0);
  CHECK(f.net.live_connections() == 0);
  CHECK(f.net.listening() == 0);
}

TEST_CASE("network refuses a connection when nothing listens", "[sim][network]") {
  net_fixture f;
  auto r = sim::run(f.ex, ask(f.ta, f.server_ep, "x"));
  CHECK(r == "error: " + std::make_error_code(std::errc::connection_refused).message());
  CHECK(f.ex.now() == 4ms);
}

namespace {
bb::task<std::error_code> crash_mid_read(sim::network& net, sim::host& server, sim::transport& ta, sim::transport& tb,
                                         bb::endpoint ep, sim::virtual_clock& clock) {
  auto acc = tb.listen(ep);
  auto c = co_await ta.connect(ep);
  auto s = co_await acc->accept();
  co_await clock.sleep_for(10ms);
  net.crash(server);
  auto ec = co_await read_error(*c);
  auto server_ec = co_await read_error(s->stream);
  CHECK(server_ec == std::errc::connection_aborted);
  co_return ec;
}

bb::task<bool> connect_times_out(sim::transport& ta, bb::endpoint ep, sim::virtual_clock& clock) {
  auto r = co_await bb::with_timeout(clock, 1s, [](sim::transport& t, bb::endpoint e) -> bb::task<bool> {
    auto s = co_await t.connect(e);
    co_return static_cast<bool>(s);
  }(ta, ep));
  co_return !r.has_value();
}

bb::task<std::string> held_then_released(sim::network& net, sim::host& a, sim::host& b, sim::transport& ta,
                                         sim::transport& tb, bb::endpoint ep, sim::virtual_clock& clock) {
  auto acc = tb.listen(ep);
  auto c = co_await ta.connect(ep);
  auto s = co_await acc->accept();
  net.hold(a, b);
  bb::const_buffer out[] = {std::string_view("abc")};
  co_await c->write(out);
  c->shutdown();
  co_await clock.sleep_for(1s);
  CHECK(s->stream.id() == c->id());
  net.release(a, b);
  co_return co_await read_all(s->stream);
}
}  // namespace

TEST_CASE("network crash resets the peer and aborts the crashed host's own ends", "[sim][network][fault]") {
  net_fixture f;
  auto ec = sim::run(f.ex, crash_mid_read(f.net, f.b, f.ta, f.tb, f.server_ep, f.clock));
  CHECK(ec == std::errc::connection_reset);
  CHECK(f.net.live_connections() == 0);
}

TEST_CASE("network partition makes a connect hang until the caller gives up", "[sim][network][fault]") {
  net_fixture f;
  auto acc = f.tb.listen(f.server_ep);
  f.net.partition({&f.a}, {&f.b});
  CHECK(sim::run(f.ex, connect_times_out(f.ta, f.server_ep, f.clock)));
  f.net.heal({&f.a}, {&f.b});
  acc->close();
  f.ex.run();
  CHECK(f.net.live_connections() == 0);
}

TEST_CASE("network hold parks segments in order and release delivers them", "[sim][network][fault]") {
  net_fixture f;
  CHECK(sim::run(f.ex, held_then_released(f.net, f.a, f.b, f.ta, f.tb, f.server_ep, f.clock)) == "abc");
  CHECK(f.net.live_connections() == 0);
}

TEST_CASE("network latency is a function of the seed and the host name only", "[sim][network]") {
  sim::executor ex;
  sim::trace tr;
  sim::network n1(ex, tr, 7), n2(ex, tr, 7), n3(ex, tr, 8);
  auto& x1 = n1.add_host("x", bb::ip_address::v4(10, 0, 0, 1), 0ms, 10ms);
  n2.add_host("first", bb::ip_address::v4(10, 0, 0, 9), 0ms, 10ms);
  auto& x2 = n2.add_host("x", bb::ip_address::v4(10, 0, 0, 1), 0ms, 10ms);
  auto& x3 = n3.add_host("x", bb::ip_address::v4(10, 0, 0, 1), 0ms, 10ms);
  CHECK(x1.access_latency == x2.access_latency);
  CHECK(x1.access_latency != x3.access_latency);
}

namespace {
bb::task<std::error_code> write_after_peer_closed(sim::transport& ta, sim::transport& tb, bb::endpoint ep,
                                                  sim::virtual_clock& clock) {
  auto acc = tb.listen(ep);
  auto c = co_await ta.connect(ep);
  {
    auto s = co_await acc->accept();
    s->stream.close();
  }
  co_await clock.sleep_for(10ms);  // the FIN has arrived
  bb::const_buffer out[] = {std::string_view("late")};
  CHECK_FALSE((co_await c->write(out)).ec);  // the kernel takes it...
  co_await clock.sleep_for(10ms);
  co_return co_await read_error(*c);  // ...and the peer's kernel answers with RST
}

bb::task<sim::duration> transfer_time(sim::transport& ta, sim::transport& tb, bb::endpoint ep,
                                      sim::virtual_clock& clock) {
  auto acc = tb.listen(ep);
  auto c = co_await ta.connect(ep);
  auto s = co_await acc->accept();
  const auto start = clock.now();
  std::string big(100'000, 'x');
  bb::const_buffer out[] = {big};
  co_await c->write(out);
  c->shutdown();
  auto got = co_await read_all(s->stream);
  CHECK(got.size() == big.size());
  co_return clock.now() - start;
}
}  // namespace

TEST_CASE("network answers data sent to a closed end with a reset", "[sim][network]") {
  net_fixture f;
  CHECK(sim::run(f.ex, write_after_peer_closed(f.ta, f.tb, f.server_ep, f.clock)) == std::errc::connection_reset);
  CHECK(f.net.live_connections() == 0);
}

TEST_CASE("network bandwidth limit stretches a transfer by its size", "[sim][network]") {
  net_fixture f;
  f.net.set_bandwidth(f.a, f.b, 1'000'000);  // 1 MB/s: 100 kB take 100 ms on the wire
  CHECK(sim::run(f.ex, transfer_time(f.ta, f.tb, f.server_ep, f.clock)) == 102ms);
}

TEST_CASE("network pause holds a host's coroutines while its kernel keeps accepting", "[sim][network][fault]") {
  net_fixture f;
  f.net.pause(f.b);
  auto t = echo_round_trip(f.tb, f.ta, f.server_ep);
  auto h = t.release();
  f.ex.post(h);
  f.ex.run(1s);
  CHECK_FALSE(h.done());
  f.net.resume(f.b);
  f.ex.run();
  REQUIRE(h.done());
  CHECK(h.promise().take() == "hello, world");
  h.destroy();
}

namespace {
/// Closes the client's end while bytes from the server sit unread in it; the reset the
/// peer then reads, with the network's count of open ends at the close.
bb::task<std::pair<std::error_code, std::size_t>> close_with_unread(sim::network& net, sim::transport& ta,
                                                                    sim::transport& tb, bb::endpoint ep,
                                                                    sim::virtual_clock& clock) {
  auto acc = tb.listen(ep);
  auto c = co_await ta.connect(ep);
  auto s = co_await acc->accept();
  bb::const_buffer out[] = {std::string_view("unasked")};
  co_await s->stream.write(out);
  co_await clock.sleep_for(10ms);  // delivered, never read
  c->close();
  const auto open = net.open_ends();
  co_return std::pair{co_await read_error(s->stream), open};
}
}  // namespace

TEST_CASE("network resets an end closed with unread bytes and counts it closed once", "[sim][network]") {
  net_fixture f;
  const auto [ec, open] = sim::run(f.ex, close_with_unread(f.net, f.ta, f.tb, f.server_ep, f.clock));
  CHECK(ec == std::errc::connection_reset);
  CHECK(open == 1);  // the server's end only
  CHECK(f.net.open_ends() == 0);
  CHECK(f.net.live_connections() == 0);
}
