// The failover watch's recovery bound at the end of the load: a host restarted too close to
// the load's end to be judged is excused, one that had the whole bound of load is not.

#include <algorithm>
#include <catch2/catch.hpp>
#include <sim/executor.hpp>
#include <sim/failover_watch.hpp>
#include <sim/invariants.hpp>
#include <sim/scenarios.hpp>
#include <sim/trace.hpp>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

/// A failover watch over upstream_flap's three hosts with active checks every second, and
/// the invariants it broke.
struct rig {
  explicit rig(sim::duration length) {
    sc = sim::make_scenario("upstream_flap", 1, length);
    cfg.health.interval = 1s;
    tr.set_sink([this](const sim::record& r) {
      if (r.kind == sim::ev::violation) broke.push_back(static_cast<sim::broken>(r.x));
    });
    watch.emplace(ex, inv, sc, cfg);
  }
  void advance_to(sim::duration t) {
    ex.at(t, sim::event{[](void*, std::uint64_t) {}, nullptr, 0});
    ex.run();
  }
  /// The bound the watch holds a restarted host's first request to.
  [[nodiscard]] sim::duration recovery_bound() const {
    for (const auto& f : watch->figures())
      if (f.name == "recover: restart→first request") return f.bound;
    FAIL("no recovery figure");
    return {};
  }
  bool broken(sim::broken b) const { return std::find(broke.begin(), broke.end(), b) != broke.end(); }

  sim::executor ex;
  sim::trace tr;
  sim::invariants inv{ex, tr};
  sim::scenario sc;
  bb::proxy_config cfg;
  std::optional<sim::failover_watch> watch;
  std::vector<sim::broken> broke;
};

}  // namespace

TEST_CASE("failover watch: a restart too close to the load's end is not late, one with a whole bound of load is",
          "[sim][failover_watch]") {
  const auto restart_at = 10s;
  rig probe(20s);
  const auto bound = probe.recovery_bound();
  REQUIRE(bound > 0s);

  SECTION("the load ends half a bound after the restart; everything resolves a bound later") {
    rig r(restart_at + bound / 2);
    r.advance_to(restart_at);
    r.watch->restarted(1);
    r.advance_to(restart_at + bound + 500ms);  // past the bound, but the load was over before it
    r.watch->load_over();
    CHECK_FALSE(r.broken(sim::broken::late_recovery));
    CHECK(r.inv.violations() == 0);
  }
  SECTION("the load runs two bounds past the restart and no request reaches the host") {
    rig r(restart_at + 2 * bound);
    r.advance_to(restart_at);
    r.watch->restarted(1);
    r.advance_to(restart_at + 2 * bound + 500ms);
    r.watch->load_over();
    CHECK(r.broken(sim::broken::late_recovery));
  }
}
