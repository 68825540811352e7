#include <bb/health/threshold.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <vector>

namespace {
// Feeds `results` to a threshold for a host that starts `up`, applying each change, and
// returns the state after every result.
std::vector<bool> run(std::uint32_t rise, std::uint32_t fall, bool up, const std::vector<bool>& results) {
  bb::health_threshold t(rise, fall);
  std::vector<bool> states;
  for (bool ok : results) {
    if (auto change = t.observe(ok, up)) up = *change;
    states.push_back(up);
  }
  return states;
}
}  // namespace

TEST_CASE("health_threshold with rise 1 and fall 1 follows every result", "[health][threshold]") {
  CHECK(run(1, 1, true, {true, false, true, false, false, true}) ==
        std::vector<bool>{true, false, true, false, false, true});
}

TEST_CASE("health_threshold takes a host down only after fall consecutive failures", "[health][threshold]") {
  CHECK(run(1, 3, true, {false, false, true, false, false, false, false}) ==
        std::vector<bool>{true, true, true, true, true, false, false});
}

TEST_CASE("health_threshold brings a host up only after rise consecutive successes", "[health][threshold]") {
  CHECK(run(2, 1, false, {true, false, true, true, true}) == std::vector<bool>{false, false, false, true, true});
}

TEST_CASE("health_threshold treats a zero threshold as one", "[health][threshold]") {
  CHECK(run(0, 0, true, {false, true}) == std::vector<bool>{false, true});
}

TEST_CASE("health_threshold reset forgets a partial count", "[health][threshold]") {
  bb::health_threshold t(2, 2);
  CHECK_FALSE(t.observe(false, true));
  t.reset();
  CHECK_FALSE(t.observe(false, true));
  CHECK(t.observe(false, true) == std::optional<bool>(false));
}
