// Bounded socket buffers: a write completes only as far as the peer's receive window has
// room, so a slow reader holds its writer back, and a parked write ends on a reset, a
// crash or a cancellation with the bytes it had queued.

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <catch2/catch.hpp>
#include <sim/clock.hpp>
#include <sim/network.hpp>
#include <sim/run.hpp>
#include <sim/transport.hpp>
#include <string>
#include <system_error>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

constexpr std::size_t window = 16 * 1024;
constexpr std::size_t total = 100 * 1024;

struct rig {
  sim::executor ex;
  sim::trace tr;
  sim::network net{ex, tr, 7};
  sim::host& a = net.add_host("writer", bb::ip_address::v4(10, 1, 0, 1), 1ms, 1ms);
  sim::host& b = net.add_host("reader", bb::ip_address::v4(10, 0, 0, 1), 1ms, 1ms);
  sim::transport ta{net, a};
  sim::transport tb{net, b};
  sim::virtual_clock clock{ex, a};
  bb::endpoint ep{b.ip, 80};
  std::string payload;
  rig() {
    net.jitter_fraction = 0;
    b.receive_window = window;
    for (std::size_t i = 0; i < total; ++i) payload.push_back(static_cast<char>('a' + i * 7 % 26));
  }
};

struct slow_read_result {
  std::string got;
  std::size_t first_read = 0;   // what the reader found after 1 s of not reading
  sim::duration write_done{0};  // when the writer's write completed
  std::size_t read_by_then = 0;
  bb::io_result write{};
};

bb::task<void> slow_reader(rig& r, sim::acceptor& acc, slow_read_result& out) {
  auto s = co_await acc.accept();
  REQUIRE(s);
  co_await r.clock.sleep_for(1s);
  std::string buf(64 * 1024, '\0');
  for (bool first = true;; first = false) {
    auto n = co_await s->stream.read_some(std::span<char>(buf.data(), first ? buf.size() : 4096));
    if (n.ec) break;
    if (first) out.first_read = n.bytes;
    out.got.append(buf.data(), n.bytes);
    co_await r.clock.sleep_for(10ms);
  }
}

bb::task<void> writer(rig& r, slow_read_result& out) {
  auto c = co_await r.ta.connect(r.ep);
  REQUIRE(c);
  bb::const_buffer parts[] = {std::string_view(r.payload).substr(0, 1000), std::string_view(r.payload).substr(1000)};
  out.write = co_await c->write(parts);
  out.write_done = r.ex.now();
  out.read_by_then = out.got.size();
  c->shutdown();
  char buf[8];
  (void)co_await c->read_some(buf);  // the reader's close
}

bb::task<void> slow_transfer(rig& r, slow_read_result& out) {
  auto acc = r.tb.listen(r.ep);
  REQUIRE(acc);
  bb::scope s;
  s.spawn(slow_reader(r, *acc, out));
  s.spawn(writer(r, out));
  co_await s.join();
}

/// Connects, lets the reader's side stay unread, writes `total` bytes and returns how the
/// write ended; `during` acts on the world 100 ms into the parked write.
template <class Act>
bb::task<bb::io_result> parked_write(rig& r, Act during) {
  auto acc = r.tb.listen(r.ep);
  auto c = co_await r.ta.connect(r.ep);
  auto s = co_await acc->accept();
  bb::scope sc;
  sc.spawn([](rig& rr, Act act, sim::stream& server) -> bb::task<void> {
    co_await rr.clock.sleep_for(100ms);
    act(rr, server);
  }(r, during, s->stream));
  bb::const_buffer out[] = {r.payload};
  const auto res = co_await c->write(out);
  co_await sc.join();
  c->close();
  s->stream.close();
  acc->close();
  co_return res;
}

/// Starts a write of `total` bytes that the reader never reads, cancels it 50 ms later and
/// returns how it ended.
bb::task<bb::io_result> cancelled_write(rig& r) {
  auto acc = r.tb.listen(r.ep);
  auto c = co_await r.ta.connect(r.ep);
  auto s = co_await acc->accept();
  bb::io_result res{};
  bb::scope w;
  w.spawn([](sim::stream& st, const std::string& p, bb::io_result& out) -> bb::task<void> {
    bb::const_buffer o[] = {p};
    out = co_await st.write(o);
  }(*c, r.payload, res));
  co_await r.clock.sleep_for(50ms);
  w.request_stop();
  co_await w.join();
  c->close();
  s->stream.close();
  acc->close();
  co_return res;
}

}  // namespace

TEST_CASE("a write to a slow reader completes only as its window lets the bytes in", "[sim][network][backpressure]") {
  rig r;
  slow_read_result out;
  sim::run(r.ex, slow_transfer(r, out));
  CHECK(out.got == r.payload);  // whole and in order, across a write split at the window
  CHECK_FALSE(out.write.ec);
  CHECK(out.write.bytes == total);
  // After a second of not reading, exactly a window's worth waited for the reader.
  CHECK(out.first_read == window);
  // The write could not complete before the reader had taken all but a window's worth.
  CHECK(out.write_done > 1s);
  CHECK(out.read_by_then + window >= total);
  CHECK(r.net.live_connections() == 0);
}

TEST_CASE("an unbounded window lets the same write complete at once", "[sim][network][backpressure]") {
  rig r;
  r.b.receive_window = total;
  slow_read_result out;
  sim::run(r.ex, slow_transfer(r, out));
  CHECK(out.got == r.payload);
  CHECK(out.write_done < 10ms);
  CHECK(out.first_read == 64 * 1024);  // as much as the read buffer takes: all had arrived
}

TEST_CASE("a reset ends a parked write with the bytes it had queued", "[sim][network][backpressure]") {
  rig r;
  auto res = sim::run(r.ex, parked_write(r, [](rig&, sim::stream& server) { server.reset(); }));
  CHECK(res.ec == std::errc::connection_reset);
  CHECK(res.bytes >= window);
  CHECK(res.bytes < total);
  r.ex.run();
  CHECK(r.net.live_connections() == 0);
}

TEST_CASE("a crash of the writer's host ends its parked write", "[sim][network][backpressure]") {
  rig r;
  auto res = sim::run(r.ex, parked_write(r, [](rig& rr, sim::stream&) { rr.net.crash(rr.a); }));
  CHECK(res.ec == std::errc::connection_aborted);
  CHECK(res.bytes == window);
  r.ex.run();
  CHECK(r.net.live_connections() == 0);
}

TEST_CASE("a cancelled parked write reports the bytes it had queued", "[sim][network][backpressure]") {
  rig r;
  auto res = sim::run(r.ex, cancelled_write(r));
  CHECK(res.ec == std::errc::operation_canceled);
  CHECK(res.bytes == window);
  r.ex.run();
  CHECK(r.net.live_connections() == 0);
  CHECK(r.net.open_ends() == 0);
}
