#pragma once
// A proxy in front of one simulated upstream and a client host, on the simulated network
// and virtual clock, for tests that drive the proxy request by request; and the client
// helpers those tests share.

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/proxy.hpp>
#include <catch2/catch.hpp>
#include <sim/clock.hpp>
#include <sim/executor.hpp>
#include <sim/http_lite.hpp>
#include <sim/network.hpp>
#include <sim/run.hpp>
#include <sim/transport.hpp>
#include <sim/upstream.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace proxy_test {

using namespace std::chrono_literals;
namespace sim = bb::sim;

using proxy_type = bb::proxy<sim::transport, sim::virtual_clock>;

/// A proxy in front of one simulated upstream, and a client host; 1 ms per hop, no jitter.
struct rig {
  sim::executor ex;
  sim::trace tr;
  sim::network net{ex, tr, 7};
  sim::host& proxy_host = net.add_host("proxy", bb::ip_address::v4(10, 0, 0, 1), 1ms, 1ms);
  sim::host& client_host = net.add_host("client", bb::ip_address::v4(10, 1, 0, 1), 1ms, 1ms);
  sim::host& upstream_host = net.add_host("up1", bb::ip_address::v4(10, 0, 1, 1), 1ms, 1ms);
  sim::transport proxy_transport{net, proxy_host};
  sim::transport client_transport{net, client_host};
  sim::virtual_clock proxy_clock{ex, proxy_host};
  sim::virtual_clock client_clock{ex, client_host};
  sim::upstream_server upstream;
  bb::proxy_config config;
  bb::logger log;
  std::optional<proxy_type> proxy;

  explicit rig(sim::behaviour b) : upstream(net, upstream_host, 8080, sim::upstream_spec{"up1", b}, bb::rng(1)) {
    net.jitter_fraction = 0;
    config.bind = bb::endpoint{proxy_host.ip, 80};
    config.upstreams.push_back({"up1", upstream.address()});
    config.health.interval = {};  // no checks: the upstream sees only the test's requests
  }

  /// Runs `client` against the proxy, then drains the proxy and stops the upstream.
  void run(std::function<bb::task<void>(rig&)> client) {
    proxy.emplace(proxy_transport, proxy_clock, bb::rng(2), config, log);
    REQUIRE_FALSE(proxy->listen());
    sim::run(ex, [](rig& r, std::function<bb::task<void>(rig&)> c) -> bb::task<void> {
      bb::scope s;
      s.spawn(r.upstream.serve());
      s.spawn(r.proxy->run());
      co_await c(r);
      r.proxy->drain();
      r.upstream.stop();
      co_await s.join();
    }(*this, std::move(client)));
  }

  sim::duration now() const { return ex.now(); }
};

inline bb::task<sim::stream> connect(rig& r) {
  auto s = co_await r.client_transport.connect(r.config.bind);
  REQUIRE(s);
  co_return std::move(*s);
}

// NOTE: never co_await inside a Catch2 assertion: GCC 12 evaluates the operand twice there
// (the macro also passes it to __builtin_constant_p), which sends or reads twice.
inline bb::task<void> send(sim::stream& s, std::string_view bytes) {
  const auto ec = co_await sim::http_lite::write_all(s, bytes);
  CHECK_FALSE(ec);
}

/// The next response on `s` (read through `rd`, which keeps what arrived beyond it);
/// status 0 when none came.
inline bb::task<sim::http_lite::message> read_response(sim::stream& s, sim::http_lite::reader& rd) {
  sim::http_lite::message m;
  if (co_await rd.read(s, true, m)) m.status = 0;
  co_return m;
}

/// Everything the peer sends until it closes, and when it closed.
struct until_close {
  std::string bytes;
  sim::duration closed_at{};
};
inline bb::task<until_close> read_until_close(rig& r, sim::stream& s) {
  until_close out;
  char buf[512];
  for (;;) {
    auto [ec, n] = co_await s.read_some(buf);
    if (ec) break;
    out.bytes.append(buf, n);
  }
  out.closed_at = r.now();
  co_return out;
}

/// The sweep ticks every 100 ms; a reply crosses one hop (1 ms) after the proxy acts.
constexpr auto slack = 102ms;

}  // namespace proxy_test
