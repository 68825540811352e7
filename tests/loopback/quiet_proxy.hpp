#pragma once
// balancebeam as the fault, upgrade and HTTP/1.0 tests run it: one worker and no active
// health checks, so that every descriptor it holds belongs to a connection the test made,
// and a baseline count of them taken after a warm-up request.
//
// After the warm-up the proxy holds its fixed descriptors (listener, epoll, timer, ...)
// plus one pooled idle connection to the upstream. Requests made one at a time keep that
// so: each takes the pooled connection (or a fresh one when a fault cost it) and gives one
// back, so after any fault and one normal request the count is the baseline again.

#include "fd_count.hpp"
#include "http_client.hpp"
#include "server_process.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace bb_test {

class quiet_proxy {
public:
  /// balancebeam in front of `upstream` with `extra` flags; `upstream` answers GET
  /// /warm-up and /after with 200.
  explicit quiet_proxy(const std::string& upstream, const std::vector<std::string>& extra = {})
      : proxy_(start_balancebeam({upstream}, flags(extra))) {
    std::size_t with_client = 0;
    {
      http_client warm(proxy_.port());
      const auto r = warm.get("/warm-up");
      REQUIRE(r.status == 200);
      with_client = open_fds(pid());
    }
    // The warm-up client's descriptor goes once the proxy sees it leave.
    baseline_ = with_client - 1;
    REQUIRE(fds_settle_to(pid(), baseline_) == baseline_);
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return proxy_.port(); }
  [[nodiscard]] pid_t pid() noexcept { return proxy_.child().pid(); }
  [[nodiscard]] server_process& process() noexcept { return proxy_; }
  /// Descriptors open after the warm-up, its client gone.
  [[nodiscard]] std::size_t baseline() const noexcept { return baseline_; }

  /// The proxy answers the next request normally, and once that client is gone it holds
  /// as many descriptors as after the warm-up.
  void check_recovers() {
    {
      http_client next(port());
      const auto r = next.get("/after");
      INFO(r.status_line << "\n" << r.body);
      CHECK(r.status == 200);
    }
    const auto fds = fds_settle_to(pid(), baseline_);
    INFO("proxy stderr:\n" << proxy_.child().err());
    CHECK(fds == baseline_);
  }

private:
  static std::vector<std::string> flags(const std::vector<std::string>& extra) {
    std::vector<std::string> f{"--threads", "1", "--active-health-check-interval", "0", "--log-level", "warn"};
    f.insert(f.end(), extra.begin(), extra.end());
    return f;
  }

  server_process proxy_;
  std::size_t baseline_ = 0;
};

}  // namespace bb_test
