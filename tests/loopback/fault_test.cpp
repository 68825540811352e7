// Faults on real sockets: an upstream that resets mid-response or before answering, sends
// garbage, or accepts and never answers, and a client that leaves mid-upload. After each
// the built balancebeam must answer the next request normally and hold no more descriptors
// than before the fault.

#include "checks.hpp"
#include "quiet_proxy.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using namespace bb_test;

namespace {

/// An upstream whose request path picks its misbehaviour:
/// - /reset-mid:   a 200 head promising 1000 bytes, 100 of them, then a reset (RST).
/// - /reset-early: a reset instead of any answer.
/// - /garbage:     bytes that are not HTTP, then it waits for the proxy to close.
/// - /silent:      no answer; it waits for the proxy to close.
/// - /upload:      reads the request body until the connection ends.
/// - /until-close: a 200 whose body ends at close, the close right behind its last bytes.
/// - anything else: 200 "ok <path>\n", keep-alive.
class fault_upstream {
public:
  static constexpr std::size_t promised = 1000;
  static constexpr std::size_t sent = 100;

  fault_upstream() : server_([this](int fd) { serve(fd); }) {}
  [[nodiscard]] std::string address() const { return server_.address(); }

  /// Connections that ended, by the proxy's close or reset, while the upstream waited
  /// for them to (after /garbage, /silent and /upload).
  [[nodiscard]] int torn_down() const noexcept { return torn_down_.load(); }
  /// Body bytes /upload received before its connection ended.
  [[nodiscard]] std::size_t upload_bytes() const noexcept { return upload_bytes_.load(); }
  /// Body bytes /upload has received so far.
  [[nodiscard]] std::size_t upload_progress() const noexcept { return upload_progress_.load(); }

private:
  void serve(int fd) {
    each_request(fd, [&](const upstream_request& r, wire_reader& in) { return answer(fd, r.target, in); });
  }

  /// Answers one request for `path`; false when the connection is to end.
  bool answer(int fd, const std::string& path, wire_reader& in) {
    if (path == "/reset-mid") {
      send_all(fd,
               "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(promised) + "\r\n\r\n" + std::string(sent, 'x'));
      // Let the proxy pass the partial body on before the reset can discard it.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      reset(fd);
      return false;
    }
    if (path == "/reset-early") {
      reset(fd);
      return false;
    }
    if (path == "/garbage") {
      send_all(fd, "SSH-2.0-OpenSSH_9.2p1\r\n\r\n");
      wait_for_close(in);
      return false;
    }
    if (path == "/silent") {
      wait_for_close(in);
      return false;
    }
    if (path == "/until-close") {
      // The proxy waits on the socket by now; corked, the bytes go out with the FIN.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      cork(fd);
      send_all(fd, "HTTP/1.1 200 OK\r\n\r\nuntil close\n");
      return false;
    }
    if (path == "/upload") {
      std::size_t n = in.peek().size();  // what came with the head
      upload_progress_ = n;
      in.consume(n);
      try {
        for (auto v = in.peek(); !v.empty(); v = in.peek()) {
          n += v.size();
          upload_progress_ = n;
          in.consume(v.size());
        }
      } catch (const std::exception&) {  // a reset ends it too
      }
      upload_bytes_ = n;
      ++torn_down_;
      return false;
    }
    const auto body = "ok " + path + "\n";
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    return true;
  }

  /// Holds what is sent until the socket closes, so the last bytes and the FIN share a segment.
  static void cork(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
  }

  /// Ends the connection with a RST rather than a FIN (test_server closes it on return).
  static void reset(int fd) {
    const linger abort{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }

  void wait_for_close(wire_reader& in) {
    try {
      while (in.fill()) {}
    } catch (const std::exception&) {  // a reset is a close too; a timeout is not, but ends the wait
    }
    ++torn_down_;
  }

  std::atomic<int> torn_down_{0};
  std::atomic<std::size_t> upload_bytes_{0};
  std::atomic<std::size_t> upload_progress_{0};
  test_server server_;  // last: its threads stop before the members they use go
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("balancebeam passes on what an upstream sent before it reset mid-response, then closes",
          "[loopback][fault]") {
  fault_upstream upstream;
  quiet_proxy proxy(upstream.address());

  auto s = try_connect(proxy.port());
  REQUIRE(s);
  wire_reader in(s.get());
  send_all(s.get(), http_client::format("GET", "/reset-mid"));
  const auto raw = in.read_through("\r\n\r\n");
  REQUIRE(raw);
  const auto head = parse_head(*raw);
  CHECK(head.first_line == "HTTP/1.1 200 OK");
  CHECK(find_field(head.fields, "content-length") == std::to_string(fault_upstream::promised));
  // The body stops short and the connection ends: the only way to tell the client.
  const auto body = in.read_to_end();
  CHECK(body == std::string(fault_upstream::sent, 'x'));
  s.reset();

  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam answers 502 when an upstream resets before answering", "[loopback][fault]") {
  const std::string method = GENERATE("GET", "POST");
  INFO(method);
  fault_upstream upstream;
  quiet_proxy proxy(upstream.address());

  {
    http_client client(proxy.port());
    const auto r = client.request(method, "/reset-early");
    INFO(r.status_line << "\n" << r.body);
    CHECK(r.status == 502);
  }
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam answers 502 when an upstream answers with garbage", "[loopback][fault]") {
  const std::string method = GENERATE("GET", "POST");
  INFO(method);
  fault_upstream upstream;
  quiet_proxy proxy(upstream.address());

  {
    http_client client(proxy.port());
    const auto r = client.request(method, "/garbage");
    INFO(r.status_line << "\n" << r.body);
    CHECK(r.status == 502);
  }
  // The connection the garbage came on is not kept.
  CHECK(eventually([&] { return upstream.torn_down() == 1; }));
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam answers 504 when an upstream accepts and never answers", "[loopback][fault]") {
  fault_upstream upstream;
  quiet_proxy proxy(upstream.address(), {"--upstream-response-timeout", "1"});

  {
    http_client client(proxy.port());
    const auto started = std::chrono::steady_clock::now();
    const auto r = client.get("/silent");
    const auto took = seconds_since(started);
    INFO(r.status_line << "\n" << r.body << "\nafter " << took << " s");
    CHECK(r.status == 504);
    CHECK(took > 0.9);
    CHECK(took < 3.0);  // 1 s, the sweep's 100 ms tick, and room for a loaded machine
  }
  // The silent connection is closed, not left to the upstream.
  CHECK(eventually([&] { return upstream.torn_down() == 1; }));
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam tears down the upstream connection when a client leaves mid-upload", "[loopback][fault]") {
  const bool reset = GENERATE(false, true);
  INFO((reset ? "the client resets" : "the client closes"));
  fault_upstream upstream;
  quiet_proxy proxy(upstream.address());

  constexpr std::size_t declared = 1 << 20;
  constexpr std::size_t part = 64 * 1024;
  {
    auto s = try_connect(proxy.port());
    REQUIRE(s);
    send_all(s.get(), "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\nContent-Length: " +
                          std::to_string(declared) + "\r\n\r\n" + std::string(part, 'u'));
    REQUIRE(eventually([&] { return upstream.upload_progress() == part; }));
    if (reset) {
      const linger abort{1, 0};
      ::setsockopt(s.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
  }
  CHECK(eventually([&] { return upstream.torn_down() == 1; }));
  CHECK(upstream.upload_bytes() == part);
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

// A FIN that arrives together with the last bytes must still be seen: an edge-triggered
// reader that takes a short read for "drained" waits for an edge that never comes.
TEST_CASE("balancebeam ends a body delimited by close when the close comes with its last bytes", "[loopback][fault]") {
  fault_upstream upstream;
  quiet_proxy proxy(upstream.address());

  {
    http_client client(proxy.port());
    const auto started = std::chrono::steady_clock::now();
    const auto r = client.get("/until-close");
    INFO(r.status_line << "\n" << r.body << "\nafter " << seconds_since(started) << " s");
    CHECK(r.status == 200);
    CHECK(r.body == "until close\n");
    CHECK(seconds_since(started) < 2.0);
  }
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam answers a client that half-closes right after its request, then closes", "[loopback][fault]") {
  fault_upstream upstream;
  quiet_proxy proxy(upstream.address());

  {
    auto s = try_connect(proxy.port());
    REQUIRE(s);
    wire_reader in(s.get());
    // Corked, the request waits for the FIN and goes out with it: both arrive as one.
    const int one = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_CORK, &one, sizeof one);
    send_all(s.get(), http_client::format("GET", "/half-closed"));
    ::shutdown(s.get(), SHUT_WR);
    const auto raw = in.read_through("\r\n\r\n");
    REQUIRE(raw);
    CHECK(parse_head(*raw).first_line == "HTTP/1.1 200 OK");
    CHECK(in.read_exactly(16) == "ok /half-closed\n");
    CHECK(in.closed_by_peer());  // the proxy saw the FIN behind the request
  }
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}
