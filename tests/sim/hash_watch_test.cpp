// The consistent-hash watch's displacement rule: the clients of a host that leaves must
// spread over the others in proportion to weight; all of them on one neighbour is a bug.

#include <catch2/catch.hpp>
#include <sim/executor.hpp>
#include <sim/hash_watch.hpp>
#include <sim/invariants.hpp>
#include <sim/trace.hpp>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace sim = bb::sim;

namespace {

/// Runs 120 clients of up2 (of up1..up3, weights 1, 2, 1) through the watch: each is seen on
/// up2 while all are live, then, while up2 is away, on the host `away(k)` names for client k.
/// Returns the violations.
template <class F>
std::uint64_t displace(F away) {
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv{ex, tr};
  sim::hash_watch w(inv, {"up1", "up2", "up3"}, {1, 2, 1}, 1.25, 1, 10s, 20s);
  const sim::pick_state all{{true, true, true}, {0, 0, 0}}, without{{true, false, true}, {0, 0, 0}};
  std::uint64_t id = 0;
  for (std::uint32_t k = 0; k < 120; ++k) {
    const auto client =
        bb::ip_address::v4(10, 1, static_cast<std::uint8_t>(k / 250), static_cast<std::uint8_t>(k % 250 + 1));
    w.first_attempt(++id, client, 1, all, 5s);
    w.first_attempt(++id, client, away(k), without, 15s);
  }
  w.finish();
  return inv.violations();
}

}  // namespace

TEST_CASE("hash watch: a leaving host's clients spread by weight pass; all on one neighbour fails",
          "[sim][hash_watch]") {
  // up1 and up3 weigh the same: 60 each is exact, 70 / 50 within the tolerance.
  CHECK(displace([](std::uint32_t k) { return k % 2 == 0 ? 0 : 2; }) == 0);
  CHECK(displace([](std::uint32_t k) { return k % 12 < 7 ? 0 : 2; }) == 0);
  // Every one of them onto up1: 120 against an expected 60.
  CHECK(displace([](std::uint32_t) { return 0; }) > 0);
  // Five in six onto up3: 100 against 60, past the tolerance (4.5 x 7.2 + 1).
  CHECK(displace([](std::uint32_t k) { return k % 6 == 0 ? 0 : 2; }) > 0);
}
