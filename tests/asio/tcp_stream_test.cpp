// bb::asio_rt's tcp_stream on loopback sockets, in every implementation this build has
// (the fast path's, whose reads track readiness themselves, detail/read_watch.hpp, when
// BB_ASIO_FAST_PATH; the portable one always): reads must never miss bytes, an end of
// stream, a cancellation or a close, whatever the order in which they happen relative to
// the read.

#include <bb/asio/runtime.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/timeout.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

namespace {

using namespace std::chrono_literals;
using bb::asio_rt::steady_clock;

/// The portable implementation, on Asio's public API.
struct portable_path {
  using transport =
      bb::asio_rt::basic_tcp_transport<bb::asio_rt::portable::tcp_stream, bb::asio_rt::portable::tcp_acceptor>;
};
#if BB_ASIO_FAST_PATH
/// The fast path, on Asio 1.22.1's epoll internals.
struct fast_path {
  using transport = bb::asio_rt::basic_tcp_transport<bb::asio_rt::fast::tcp_stream, bb::asio_rt::fast::tcp_acceptor>;
};
#define BB_STREAM_IMPLEMENTATIONS fast_path, portable_path
#else
#define BB_STREAM_IMPLEMENTATIONS portable_path
#endif

template <class Transport>
struct pair_fixture {
  using tcp_stream = typename Transport::stream;
  asio::io_context io;
  Transport transport{io};
  steady_clock clock{io};
  std::optional<tcp_stream> client, server;

  pair_fixture() {
    auto acceptor = transport.listen(*bb::endpoint::parse("127.0.0.1:0"));
    REQUIRE(acceptor);
    const auto at = acceptor->local_endpoint();
    bb::asio_rt::run(io, [](pair_fixture& f, typename Transport::acceptor& a, bb::endpoint to) -> bb::task<void> {
      auto c = co_await f.transport.connect(to);
      REQUIRE(c);
      f.client.emplace(std::move(c.value()));
      auto s = co_await a.accept();
      REQUIRE(s);
      f.server.emplace(std::move(s.value().stream));
    }(*this, *acceptor, at));
  }

  template <class T>
  T run(bb::task<T> t) {
    return bb::asio_rt::run(io, std::move(t));
  }
};

template <class Stream>
bb::task<void> send(Stream& s, std::string text) {
  const bb::const_buffer b[] = {{text.data(), text.size()}};
  const auto w = co_await s.write(b);
  REQUIRE_FALSE(w.ec);
}

template <class Stream>
bb::task<std::string> read_some(Stream& s, std::size_t size = 64) {
  std::string buf(size, '\0');
  const auto r = co_await s.read_some(std::span<char>(buf.data(), buf.size()));
  if (r.ec) co_return "error: " + r.ec.message();
  buf.resize(r.bytes);
  co_return buf;
}

bb::task<void> pause(steady_clock& c, std::chrono::milliseconds d) { co_await c.sleep_for(d); }

}  // namespace

TEMPLATE_TEST_CASE("an accepted tcp_stream's first wait sees what came before, during and after the accept",
                   "[asio][tcp_stream]", BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  using tcp_stream = typename transport::stream;
  // The first wait of an accepted stream makes no peek: the registration reports what was
  // already there. Bytes, a FIN alone, or bytes with a FIN may come before the accept,
  // or nothing may come until after the wait has begun.
  enum class peer { bytes, fin, bytes_fin, later };
  const peer what = GENERATE(peer::bytes, peer::fin, peer::bytes_fin, peer::later);
  INFO("case " << static_cast<int>(what));
  asio::io_context io;
  transport tp{io};
  steady_clock clock{io};
  auto acceptor = tp.listen(*bb::endpoint::parse("127.0.0.1:0"));
  REQUIRE(acceptor);
  const int raw = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(raw >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(acceptor->local_endpoint().port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(raw, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
  const std::string hello = "GET / HTTP/1.1\r\n\r\n";
  if (what == peer::bytes || what == peer::bytes_fin)
    REQUIRE(::send(raw, hello.data(), hello.size(), 0) == ssize_t(hello.size()));
  if (what == peer::fin || what == peer::bytes_fin) REQUIRE(::shutdown(raw, SHUT_WR) == 0);
  ::usleep(20000);  // all of it is in the accepted socket's queue before the accept
  auto s = bb::asio_rt::run(io, [](typename transport::acceptor& a) -> bb::task<std::optional<tcp_stream>> {
    auto r = co_await a.accept();
    REQUIRE(r);
    co_return std::move(r.value().stream);
  }(*acceptor));
  REQUIRE(s);
  // The loop turns before the first wait: the registration's event is dispatched while
  // nothing waits (the latch must remember it).
  bb::asio_rt::run(io, pause(clock, 20ms));
  const auto eof = "error: " + std::error_code(bb::errc::eof).message();
  // The wait; for `later`, the bytes are sent while it waits.
  const auto woke = bb::asio_rt::run(
      io,
      [](tcp_stream& st, steady_clock& c, int fd, const std::string& text,
         bool later) -> bb::task<std::optional<std::string>> {
        bb::scope sc;
        std::optional<std::string> got;
        sc.spawn([](tcp_stream& t, steady_clock& k, std::optional<std::string>& out) -> bb::task<void> {
          out = co_await bb::with_timeout(k, 2s, read_some(t, 0));
        }(st, c, got));
        if (later) {
          co_await pause(c, 30ms);
          CHECK_FALSE(got);  // nothing came yet
          REQUIRE(::send(fd, text.data(), text.size(), 0) == ssize_t(text.size()));
        }
        co_await sc.join();
        co_return got;
      }(*s, clock, raw, hello, what == peer::later));
  REQUIRE(woke);
  CHECK(woke->empty());
  const auto first = bb::asio_rt::run(io, bb::with_timeout(clock, 2s, read_some(*s)));
  REQUIRE(first);
  CHECK(*first == (what == peer::fin ? eof : hello));
  if (what == peer::bytes_fin) {
    const auto end = bb::asio_rt::run(io, bb::with_timeout(clock, 2s, read_some(*s)));
    REQUIRE(end);
    CHECK(*end == eof);
  }
  ::close(raw);
}

TEMPLATE_TEST_CASE("tcp_stream reads bytes that arrive while nobody reads, after a drained read", "[asio][tcp_stream]",
                   BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  pair_fixture<transport> f;
  f.run(send(*f.server, "one"));
  CHECK(f.run(read_some(*f.client)) == "one");  // short read: the socket is known drained
  // Bytes arrive and the loop turns (epoll_wait reports the edge) while no read is pending.
  f.run(send(*f.server, "two"));
  f.run(pause(f.clock, 20ms));
  CHECK(f.run(read_some(*f.client)) == "two");
  // A zero-length read is a wait: it must see bytes that came during an idle loop turn too.
  f.run(send(*f.server, "three"));
  f.run(pause(f.clock, 20ms));
  CHECK(f.run(read_some(*f.client, 0)).empty());
  CHECK(f.run(read_some(*f.client)) == "three");
}

TEMPLATE_TEST_CASE("tcp_stream reads exactly a buffer's worth and then the rest", "[asio][tcp_stream]",
                   BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  using tcp_stream = typename transport::stream;
  pair_fixture<transport> f;
  f.run(send(*f.server, "abcdefgh"));
  f.run(pause(f.clock, 10ms));
  CHECK(f.run(read_some(*f.client, 4)) == "abcd");  // a full buffer: more may be waiting
  CHECK(f.run(read_some(*f.client, 4)) == "efgh");
  // Nothing left: the next read waits, and wakes for the bytes sent meanwhile.
  f.run([](pair_fixture<transport>& p) -> bb::task<void> {
    bb::scope s;
    std::string got;
    s.spawn([](tcp_stream& c, std::string& out) -> bb::task<void> { out = co_await read_some(c); }(*p.client, got));
    co_await pause(p.clock, 10ms);
    co_await send(*p.server, "later");
    co_await s.join();
    CHECK(got == "later");
  }(f));
}

TEMPLATE_TEST_CASE("tcp_stream sees an end of stream that came while the connection sat idle", "[asio][tcp_stream]",
                   BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  // A pooled upstream connection that the upstream closed: its FIN is reported while no
  // read is pending, and the next read must return eof at once, not wait for another edge.
  pair_fixture<transport> f;
  f.run(send(*f.server, "response"));
  CHECK(f.run(read_some(*f.client)) == "response");
  f.server->close();
  f.run(pause(f.clock, 20ms));
  auto moved = std::move(*f.client);  // the pool moves connections in and out
  f.client.reset();
  const auto r = f.run(bb::with_timeout(f.clock, 2s, read_some(moved)));
  REQUIRE(r);
  CHECK(*r == "error: " + std::error_code(bb::errc::eof).message());
}

TEMPLATE_TEST_CASE("tcp_stream ends a pending read on cancellation and on close, and reads again after",
                   "[asio][tcp_stream]", BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  using tcp_stream = typename transport::stream;
  pair_fixture<transport> f;
  f.run(send(*f.server, "x"));
  CHECK(f.run(read_some(*f.client)) == "x");
  // Cancelled by a timeout while waiting.
  const auto timed = f.run(bb::with_timeout(f.clock, 20ms, read_some(*f.client)));
  CHECK_FALSE(timed);
  f.run(send(*f.server, "after"));
  CHECK(f.run(read_some(*f.client)) == "after");
  // Closed under a pending read (what the proxy's deadline sweep does).
  const auto closed = f.run([](pair_fixture<transport>& p) -> bb::task<std::string> {
    bb::scope s;
    std::string got;
    s.spawn([](tcp_stream& c, std::string& out) -> bb::task<void> { out = co_await read_some(c); }(*p.client, got));
    co_await pause(p.clock, 10ms);
    p.client->close();
    co_await s.join();
    co_return got;
  }(f));
  CHECK_THAT(closed, Catch::StartsWith("error: "));
}

TEMPLATE_TEST_CASE("tcp_stream destroyed with a queued watch frees it when the loop runs on", "[asio][tcp_stream]",
                   BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  // Nothing to observe but the absence of leaks and use-after-free (the sanitizer stages
  // of scripts/test run this); the loop must keep working for the other socket.
  pair_fixture<transport> f;
  f.run(send(*f.server, "x"));
  CHECK(f.run(read_some(*f.client)) == "x");  // drained: the watch is now queued
  f.client.reset();
  f.run(pause(f.clock, 10ms));
  CHECK(f.run(read_some(*f.server)) == "error: " + std::error_code(bb::errc::eof).message());
}

TEMPLATE_TEST_CASE("tcp_stream sees the end of stream that came with the last bytes", "[asio][tcp_stream]",
                   BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  // The FIN rides with the data: the short read takes both, and no edge follows. A body
  // delimited by close must still end, and a wait must still report the half-close.
  pair_fixture<transport> f;
  f.run(send(*f.server, "last bytes"));
  REQUIRE_FALSE(f.server->shutdown());
  f.run(pause(f.clock, 20ms));
  CHECK(f.run(read_some(*f.client)) == "last bytes");
  const auto eof = "error: " + std::error_code(bb::errc::eof).message();
  const auto next = f.run(bb::with_timeout(f.clock, 2s, read_some(*f.client)));
  REQUIRE(next);
  CHECK(*next == eof);
  // The same after the proxy answered on that socket (a client that half-closed after its
  // request): the wait for its next request sees the end at once.
  pair_fixture<transport> g;
  g.run(send(*g.server, "GET / HTTP/1.1\r\n\r\n"));
  REQUIRE_FALSE(g.server->shutdown());
  g.run(pause(g.clock, 20ms));
  CHECK(g.run(read_some(*g.client)) == "GET / HTTP/1.1\r\n\r\n");
  g.run(send(*g.client, "HTTP/1.1 200 OK\r\n\r\n"));
  const auto woke = g.run(bb::with_timeout(g.clock, 2s, read_some(*g.client, 0)));
  REQUIRE(woke);
  CHECK(woke->empty());
  const auto end = g.run(bb::with_timeout(g.clock, 2s, read_some(*g.client)));
  REQUIRE(end);
  CHECK(*end == eof);
}

TEMPLATE_TEST_CASE("tcp_stream sees a half-close on a keep-alive connection once it stopped peeking",
                   "[asio][tcp_stream]", BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  // Request, answer, wait: the first wait registers EPOLLRDHUP, later ones make no system
  // call. Whether the FIN comes with the next request or after it is read, the wait that
  // follows the answer must still see it.
  const bool fin_with_request = GENERATE(true, false);
  INFO((fin_with_request ? "FIN with the request" : "FIN after the request was read"));
  pair_fixture<transport> f;
  const auto eof = "error: " + std::error_code(bb::errc::eof).message();
  for (int i = 0; i < 3; ++i) {
    f.run(send(*f.server, "GET /" + std::to_string(i) + " HTTP/1.1\r\n\r\n"));
    CHECK(f.run(read_some(*f.client)) == "GET /" + std::to_string(i) + " HTTP/1.1\r\n\r\n");
    f.run(send(*f.client, "HTTP/1.1 200 OK\r\n\r\n"));
    CHECK(f.run(read_some(*f.server)) == "HTTP/1.1 200 OK\r\n\r\n");
  }
  // Nothing more comes: the wait for a next request finds nothing.
  CHECK_FALSE(f.run(bb::with_timeout(f.clock, 50ms, read_some(*f.client, 0))));
  f.run(send(*f.server, "GET /last HTTP/1.1\r\n\r\n"));
  if (fin_with_request) {
    REQUIRE_FALSE(f.server->shutdown());
    f.run(pause(f.clock, 20ms));
  }
  CHECK(f.run(read_some(*f.client)) == "GET /last HTTP/1.1\r\n\r\n");
  if (!fin_with_request) REQUIRE_FALSE(f.server->shutdown());
  f.run(send(*f.client, "HTTP/1.1 200 OK\r\n\r\n"));
  const auto woke = f.run(bb::with_timeout(f.clock, 2s, read_some(*f.client, 0)));
  REQUIRE(woke);
  CHECK(woke->empty());
  const auto end = f.run(bb::with_timeout(f.clock, 2s, read_some(*f.client)));
  REQUIRE(end);
  CHECK(*end == eof);
}

TEMPLATE_TEST_CASE("tcp_stream waits for the answer to what it wrote, and sees a reset from a closed peer",
                   "[asio][tcp_stream]", BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  using tcp_stream = typename transport::stream;
  pair_fixture<transport> f;
  f.run(send(*f.server, "response 1"));
  f.run(pause(f.clock, 10ms));
  CHECK(f.run(read_some(*f.client)) == "response 1");
  // Request, then the answer arrives while the reader waits without having tried a recv.
  f.run([](pair_fixture<transport>& p) -> bb::task<void> {
    co_await send(*p.client, "request 2");
    bb::scope s;
    std::string got;
    s.spawn([](tcp_stream& c, std::string& out) -> bb::task<void> { out = co_await read_some(c); }(*p.client, got));
    const auto request = co_await read_some(*p.server);  // not inside CHECK: GCC 12 would await twice
    CHECK(request == "request 2");
    co_await send(*p.server, "response 2");
    co_await s.join();
    CHECK(got == "response 2");
  }(f));
  // The peer closes with the last bytes of a response; the next request draws a reset.
  f.run(send(*f.server, "response 3"));
  f.server->close();
  f.run(pause(f.clock, 20ms));
  CHECK(f.run(read_some(*f.client)) == "response 3");
  f.run(send(*f.client, "request 4"));
  const auto r = f.run(bb::with_timeout(f.clock, 2s, read_some(*f.client)));
  REQUIRE(r);
  CHECK_THAT(*r, Catch::StartsWith("error: "));
}

TEMPLATE_TEST_CASE("a tcp_stream whose bytes never run out still lets the event loop serve other sockets",
                   "[asio][tcp_stream]", BB_STREAM_IMPLEMENTATIONS) {
  using transport = typename TestType::transport;
  using tcp_stream = typename transport::stream;
  // 64 KiB wait on socket A and are read one byte at a time, so every read could complete
  // without the event loop; B's reader waits in the loop for one byte sent meanwhile. B must
  // be served long before A is drained (the inline-read budget), not after.
  asio::io_context io;
  transport tp{io};
  steady_clock clock{io};
  auto acceptor = tp.listen(*bb::endpoint::parse("127.0.0.1:0"));
  REQUIRE(acceptor);
  const auto at = acceptor->local_endpoint();
  constexpr std::size_t total = 64 * 1024;
  std::size_t a_read = 0;
  std::optional<std::size_t> a_read_when_b_served;
  bb::asio_rt::run(
      io,
      [](transport& t, steady_clock& clk, typename transport::acceptor& acc, bb::endpoint to, std::size_t& a_count,
         std::optional<std::size_t>& b_seen_at) -> bb::task<void> {
        auto a_client = co_await t.connect(to);
        auto a_server = co_await acc.accept();
        auto b_client = co_await t.connect(to);
        auto b_server = co_await acc.accept();
        REQUIRE((a_client && a_server && b_client && b_server));
        co_await send(a_client.value(), std::string(total, 'a'));
        co_await clk.sleep_for(50ms);  // A's bytes are all in its receive buffer
        bb::scope s;
        s.spawn([](tcp_stream& b, const std::size_t& a_so_far, std::optional<std::size_t>& b_at) -> bb::task<void> {
          const auto got = co_await read_some(b, 1);
          CHECK(got == "x");
          b_at = a_so_far;
        }(b_server.value().stream, a_count, b_seen_at));
        co_await send(b_client.value(), "x");
        char c;
        while (a_count < total) {
          const auto r = co_await a_server.value().stream.read_some(std::span<char>(&c, 1));
          REQUIRE_FALSE(r.ec);
          a_count += r.bytes;
        }
        co_await s.join();
      }(tp, clock, *acceptor, at, a_read, a_read_when_b_served));
  REQUIRE(a_read_when_b_served);
  INFO("A had read " << *a_read_when_b_served << " of " << total << " bytes when B was served");
  CHECK(*a_read_when_b_served < 1024);
}

TEMPLATE_TEST_CASE("tcp_stream ends a cancelled read from the event loop and leaves a pending write alone",
                   "[asio][tcp_stream]", BB_STREAM_IMPLEMENTATIONS) {
  // What a connection pool does at every reuse: the wait on an idle connection is
  // cancelled. Only that read ends, and not inside request_stop(): a write the stream has
  // pending goes on and delivers every byte.
  using transport = typename TestType::transport;
  using tcp_stream = typename transport::stream;
  pair_fixture<transport> f;
  const std::size_t total = 16 * 1024 * 1024;  // more than loopback buffers hold: the write waits
  const auto outcome = f.run([](pair_fixture<transport>& p, std::size_t size) -> bb::task<std::string> {
    bb::scope s;
    bb::cancel_source stop_read;
    std::optional<std::string> read;
    std::optional<bb::io_result> wrote;
    const std::string big(size, 'w');
    s.spawn([](tcp_stream& c, std::optional<std::string>& out) -> bb::task<void> { out = co_await read_some(c, 0); }(
                                                                   *p.client, read),
            stop_read.token());
    s.spawn([](tcp_stream& c, const std::string& text, std::optional<bb::io_result>& out) -> bb::task<void> {
      const bb::const_buffer b[] = {{text.data(), text.size()}};
      out = co_await c.write(b);
    }(*p.client, big, wrote));
    co_await pause(p.clock, 20ms);
    if (read || wrote) co_return "the read or the write ended early";
    stop_read.request_stop();
    if (read) co_return "the cancelled read resumed inside request_stop()";
    co_await pause(p.clock, 20ms);
    if (!read) co_return "the cancelled read never ended";
    if (*read != "error: " + std::make_error_code(std::errc::operation_canceled).message())
      co_return "the cancelled read ended with: " + *read;
    if (wrote) co_return "the write ended before the peer read anything";
    std::size_t got = 0;
    while (got < size) {
      const auto chunk = co_await read_some(*p.server, 64 * 1024);
      if (chunk.starts_with("error: ")) co_return "the peer's read failed: " + chunk;
      got += chunk.size();
    }
    co_await s.join();
    if (!wrote || wrote->ec || wrote->bytes != size) co_return "the write did not deliver every byte";
    co_return "ok";
  }(f, total));
  CHECK(outcome == "ok");
}
