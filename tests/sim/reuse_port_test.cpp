// SO_REUSEPORT on the simulated network: listeners that all ask for it share a port and
// new connections spread over them by a hash of their source; one that does not ask keeps
// the port to itself.

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <catch2/catch.hpp>
#include <sim/network.hpp>
#include <sim/run.hpp>
#include <sim/transport.hpp>
#include <system_error>
#include <vector>

namespace sim = bb::sim;

namespace {

struct rig {
  sim::executor ex;
  sim::trace tr;
  sim::network net{ex, tr, 11};
  sim::host& server = net.add_host("server", bb::ip_address::v4(10, 0, 0, 1), std::chrono::microseconds(100),
                                   std::chrono::microseconds(100));
  std::vector<sim::host*> clients;
  bb::endpoint ep{server.ip, 80};
  rig() {
    for (std::uint8_t i = 1; i <= 40; ++i)
      clients.push_back(&net.add_host("c" + std::to_string(i), bb::ip_address::v4(10, 1, 0, i),
                                      std::chrono::microseconds(100), std::chrono::microseconds(100)));
  }
};

/// Accepts `n` connections on `acc` in all, counting each in `count`; a shared counter of
/// what remains ends every acceptor once all have come.
bb::task<void> count_accepts(sim::acceptor& acc, std::size_t& count, std::size_t& remaining) {
  while (remaining > 0) {
    auto a = co_await acc.accept();
    if (!a) co_return;
    ++count;
    --remaining;
    a->stream.close();
  }
}

bb::task<void> connect_all(rig& r, std::vector<sim::transport>& from) {
  for (auto& t : from) {
    auto s = co_await t.connect(r.ep);
    REQUIRE(s);
  }
}

}  // namespace

TEST_CASE("listeners that set SO_REUSEPORT share a port and its connections", "[sim][network]") {
  rig r;
  std::vector<sim::transport> workers;
  for (int k = 0; k < 3; ++k) workers.emplace_back(r.net, r.server), workers.back().set_reuse_port(true);
  std::vector<sim::acceptor> accs;
  for (auto& w : workers) {
    auto a = w.listen(r.ep);
    REQUIRE(a);
    accs.push_back(std::move(*a));
  }
  std::vector<sim::transport> from;
  for (auto* c : r.clients) from.emplace_back(r.net, *c);
  std::size_t counts[3] = {}, remaining = r.clients.size();
  auto body = [&]() -> bb::task<void> {
    bb::scope s;
    for (int k = 0; k < 3; ++k) s.spawn(count_accepts(accs[static_cast<std::size_t>(k)], counts[k], remaining));
    co_await connect_all(r, from);
    for (auto& a : accs) a.close();  // wakes those still waiting
    co_await s.join();
  };
  sim::run(r.ex, body());
  CHECK(counts[0] + counts[1] + counts[2] == r.clients.size());
  for (auto n : counts) CHECK(n >= 5);  // 40 sources over 3: none starved
  CHECK(r.net.listening() == 0);
}

TEST_CASE("a listener without SO_REUSEPORT keeps its port", "[sim][network]") {
  rig r;
  sim::transport plain(r.net, r.server), shared(r.net, r.server), shared2(r.net, r.server);
  shared.set_reuse_port(true);
  shared2.set_reuse_port(true);
  {
    auto a = plain.listen(r.ep);
    REQUIRE(a);
    auto b = shared.listen(r.ep);
    REQUIRE_FALSE(b);
    CHECK(b.error() == std::errc::address_in_use);
  }
  auto b = shared.listen(r.ep);
  REQUIRE(b);
  auto c = plain.listen(r.ep);
  REQUIRE_FALSE(c);
  CHECK(c.error() == std::errc::address_in_use);
  auto d = shared2.listen(r.ep);
  CHECK(d);
  b->close();
  // The one left still takes connections.
  sim::transport from(r.net, *r.clients.front());
  std::size_t count = 0, remaining = 1;
  auto body = [&]() -> bb::task<void> {
    bb::scope s;
    s.spawn(count_accepts(*d, count, remaining));
    auto st = co_await from.connect(r.ep);
    CHECK(st);
    co_await s.join();
  };
  sim::run(r.ex, body());
  CHECK(count == 1);
}
