// Slowloris: 1,000 connections that trickle a request head, one byte every 0.5 s, cost the
// other clients nothing, and each is closed (408, or a bare close) at the header timeout.

#include "checks.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace bb_test;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Raises this process's soft open-file limit to its hard limit (the proxy it starts
/// inherits it); the limit then in force.
rlim_t raise_open_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max) {
    rlimit want = r;
    want.rlim_cur = r.rlim_max == RLIM_INFINITY ? 1 << 20 : r.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) r = want;
  }
  return r.rlim_cur;
}

/// One slow client: the head bytes it has sent, what it got back, and when it ended.
struct trickler {
  unique_fd fd;
  clock_type::time_point connected;
  std::size_t sent = 0;
  std::string got;
  std::optional<clock_type::time_point> ended;
};

/// Reads what has arrived; true once the connection has ended (closed or reset).
bool drain_input(trickler& t) {
  char buf[512];
  for (;;) {
    const auto n = ::recv(t.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      t.got.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n < 0 && errno == EINTR) continue;
    return true;
  }
}

}  // namespace

TEST_CASE("balancebeam closes 1,000 slowloris connections at the header timeout and meanwhile serves others promptly",
          "[loopback][balancebeam][timeout][slowloris]") {
  constexpr double header_timeout_s = 2;
  constexpr auto byte_interval = std::chrono::milliseconds(500);
  constexpr std::string_view head =
      "GET /slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n\r\n";

  // This process and the proxy each hold a descriptor per trickler.
  std::size_t n = 1000;
  const auto files = raise_open_file_limit();
  if (files < n + 200) {
    n = files > 300 ? static_cast<std::size_t>(files) - 200 : 100;
    WARN("open-file limit " << files << ": " << n << " slow connections instead of 1,000");
  }

  test_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--client-header-timeout", "2", "--log-level", "warn"});

  // What a normal client's request costs without the slow ones, for the report.
  double baseline_max_s = 0;
  {
    http_client c(proxy.port());
    for (int i = 0; i < 20; ++i) {
      const auto t0 = clock_type::now();
      REQUIRE(c.get("/baseline").status == 200);
      baseline_max_s = std::max(baseline_max_s, seconds_between(t0, clock_type::now()));
    }
  }

  std::vector<trickler> slow(n);
  for (auto& t : slow) {
    t.fd = try_connect(proxy.port());
    REQUIRE(t.fd);
    t.connected = clock_type::now();
    REQUIRE(::send(t.fd.get(), head.data(), 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1);
    t.sent = 1;
  }

  // A normal client, one request after another, while the slow ones trickle.
  std::atomic<bool> done{false};
  std::vector<double> latencies;
  std::vector<std::string> failures;
  std::thread normal([&] {
    try {
      http_client c(proxy.port());
      while (!done) {
        const auto t0 = clock_type::now();
        const auto r = c.get("/normal");
        latencies.push_back(seconds_between(t0, clock_type::now()));
        if (r.status != 200) failures.push_back(r.status_line);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } catch (const std::exception& e) { failures.push_back(e.what()); }
  });

  // Trickle one byte per connection every 0.5 s, and note when each one ends.
  const auto give_up = clock_type::now() + std::chrono::seconds(8);
  auto next_byte = clock_type::now() + byte_interval;
  std::size_t open = n;
  std::vector<pollfd> fds;
  std::vector<trickler*> polled;
  while (open > 0 && clock_type::now() < give_up) {
    fds.clear();
    polled.clear();
    for (auto& t : slow) {
      if (t.ended) continue;
      fds.push_back({t.fd.get(), POLLIN, 0});
      polled.push_back(&t);
    }
    ::poll(fds.data(), fds.size(), 20);
    const auto now = clock_type::now();
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (drain_input(*polled[i])) {
        polled[i]->ended = now;
        --open;
      }
    }
    if (now < next_byte) continue;
    next_byte += byte_interval;
    for (auto& t : slow) {
      if (t.ended || t.sent + 4 >= head.size()) continue;  // never the end of the head
      if (::send(t.fd.get(), head.data() + t.sent, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) ++t.sent;
    }
  }
  done = true;
  normal.join();

  std::size_t answered_408 = 0, closed_bare = 0, other = 0, still_open = 0;
  double first_end_s = 1e9, last_end_s = 0;
  for (const auto& t : slow) {
    if (!t.ended) {
      ++still_open;
      continue;
    }
    const double took = seconds_between(t.connected, *t.ended);
    first_end_s = std::min(first_end_s, took);
    last_end_s = std::max(last_end_s, took);
    if (t.got.empty()) ++closed_bare;
    else if (t.got.starts_with("HTTP/1.1 408 ")) ++answered_408;
    else ++other;
  }
  const double normal_max_s = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  INFO(n << " slow connections: " << answered_408 << " got 408, " << closed_bare << " closed bare, " << other
         << " other, " << still_open << " still open; ended " << first_end_s << " .. " << last_end_s
         << " s after connecting\nnormal client: " << latencies.size() << " requests, slowest " << normal_max_s
         << " s (without the slow ones: " << baseline_max_s << " s)");
  std::string failure_text;
  for (const auto& f : failures) failure_text += "normal client failure: " + f + "\n";
  INFO(failure_text);
  CHECK(still_open == 0);
  CHECK(other == 0);
  CHECK(answered_408 + closed_bare == n);
  CHECK(first_end_s >= header_timeout_s - 0.05);
  CHECK(last_end_s <= header_timeout_s + 1.0);  // the 100 ms sweep, and room for a loaded machine
  CHECK(failures.empty());
  CHECK(latencies.size() >= 20);
  CHECK(normal_max_s < 1.0);
  stop_cleanly(proxy);
}
