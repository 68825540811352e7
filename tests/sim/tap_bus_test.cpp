// The tap bus: every event reaches each subscribed tap, in the order they subscribed.

#include <catch2/catch.hpp>
#include <sim/connection.hpp>
#include <sim/tap_bus.hpp>
#include <string>
#include <vector>

namespace sim = bb::sim;

namespace {

/// Writes "<name>:<event>" into a shared log for every event.
struct recorder final : sim::transport_tap {
  recorder(std::string n, std::vector<std::string>& l) : name(std::move(n)), log(l) {}
  void connecting(const bb::endpoint&) override { log.push_back(name + ":connecting"); }
  void opened(const sim::connection&, const bb::endpoint&) override { log.push_back(name + ":opened"); }
  void wrote(const sim::connection&, const bb::endpoint&, std::span<const bb::const_buffer>) override {
    log.push_back(name + ":wrote");
  }
  void delivered(const sim::connection&, int, std::size_t) override { log.push_back(name + ":delivered"); }
  void read(const sim::connection&, const bb::endpoint&, std::string_view) override { log.push_back(name + ":read"); }
  void write_refused(const sim::connection&, const bb::endpoint&, std::span<const bb::const_buffer>) override {
    log.push_back(name + ":write_refused");
  }
  void freed(const sim::connection&) override { log.push_back(name + ":freed"); }
  std::string name;
  std::vector<std::string>& log;
};

}  // namespace

TEST_CASE("tap bus: each event reaches every subscriber in subscription order", "[sim][tap_bus]") {
  std::vector<std::string> log;
  recorder a("a", log), b("b", log);
  sim::tap_bus bus;
  bus.subscribe(b);
  bus.subscribe(a);
  sim::connection c;
  const bb::endpoint e{bb::ip_address::v4(10, 0, 1, 1), 8080};
  bus.connecting(e);
  bus.opened(c, e);
  bus.wrote(c, e, {});
  bus.delivered(c, 0, 1);
  bus.read(c, e, "x");
  bus.write_refused(c, e, {});
  bus.freed(c);
  CHECK(log == std::vector<std::string>{"b:connecting", "a:connecting", "b:opened", "a:opened", "b:wrote", "a:wrote",
                                        "b:delivered", "a:delivered", "b:read", "a:read", "b:write_refused",
                                        "a:write_refused", "b:freed", "a:freed"});
}
