// The upstream connection pool on real sockets: a pooled connection is closed once it has
// been idle for --upstream-idle-timeout, and when an active check takes its upstream down.

#include "checks.hpp"
#include "http_client.hpp"
#include "http_wire.hpp"
#include "server_process.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using namespace bb_test;

namespace {

using clock_type = std::chrono::steady_clock;

/// An upstream that answers every request with 200 on a keep-alive connection, except
/// the health path once `sick` is set (503). It counts the proxied connections (those
/// that carried a request for /data) the proxy closed, and when the last one went.
class pool_upstream {
public:
  pool_upstream() : server_([this](int fd) { serve(fd); }) {}
  [[nodiscard]] std::string address() const { return server_.address(); }
  void fall_sick() { sick_ = true; }
  [[nodiscard]] int data_closed() const noexcept { return data_closed_.load(); }
  [[nodiscard]] clock_type::time_point last_close() const noexcept { return last_close_.load(); }

private:
  void serve(int fd) {
    bool data = false;
    each_request(fd, [&](const upstream_request& r, wire_reader&) {
      const bool health = r.target == "/health";
      data = data || !health;
      if (health && sick_) {
        send_all(fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
      } else {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      }
      return true;
    });
    if (data) {
      last_close_ = clock_type::now();
      ++data_closed_;
    }
  }

  std::atomic<bool> sick_{false};
  std::atomic<int> data_closed_{0};
  std::atomic<clock_type::time_point> last_close_{};
  test_server server_;  // last: its threads stop before the members they use go
};

}  // namespace

TEST_CASE("balancebeam closes a pooled upstream connection idle for --upstream-idle-timeout",
          "[loopback][balancebeam][pool]") {
  pool_upstream upstream;
  auto proxy = start_balancebeam(
      {upstream.address()}, {"--threads", "1", "--upstream-idle-timeout", "1", "--active-health-check-interval", "0"});
  {
    http_client client(proxy.port());
    const auto r = client.get("/data");
    REQUIRE(r.status == 200);
  }
  const auto pooled = clock_type::now();
  // Expiry is checked every second: closed between 1 and 2 s after the response.
  REQUIRE(eventually([&] { return upstream.data_closed() == 1; }, std::chrono::milliseconds(5000)));
  const double after = std::chrono::duration<double>(upstream.last_close() - pooled).count();
  INFO("closed " << after << " s after it was pooled");
  CHECK(after >= 0.9);
  CHECK(after <= 2.6);
  // The next request gets a fresh connection.
  http_client client(proxy.port());
  CHECK(client.get("/data").status == 200);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam closes its pooled connections to an upstream an active check takes down",
          "[loopback][balancebeam][pool]") {
  pool_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--threads", "2", "--active-health-check-interval", "1",
                                                        "--active-health-check-path", "/health"});
  {
    http_client client(proxy.port());
    for (int i = 0; i < 4; ++i) REQUIRE(client.get("/data").status == 200);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(upstream.data_closed() == 0);  // pooled, well inside the 60 s idle timeout
  upstream.fall_sick();
  // The next check (within 1 s) takes it down; the pool sweep (every second) closes.
  CHECK(eventually([&] { return upstream.data_closed() >= 1; }, std::chrono::milliseconds(4000)));
  stop_cleanly(proxy);
}
