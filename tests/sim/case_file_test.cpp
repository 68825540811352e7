// Case files (sim/case_file.hpp): a swarm run written and read back replays bit for bit;
// a bad file is refused with its file, line and key.

#include <algorithm>
#include <catch2/catch.hpp>
#include <sim/case_file.hpp>
#include <sim/swarm.hpp>
#include <sim/world.hpp>
#include <string>
#include "case_text.hpp"

namespace sim = bb::sim;

namespace {

using sim_test::read_text;
using sim_test::text_of;

}  // namespace

TEST_CASE("case file replays a swarm seed with the same trace hash", "[sim][case_file]") {
  const auto seed = GENERATE(3u, 31u, 124u);
  const auto drawn = sim::make_swarm_scenario(seed);
  const auto text = text_of(drawn);
  const auto read = read_text(text);
  INFO("seed " << seed << "\n" << text);
  CHECK(text_of(read) == text);
  CHECK(read.parameters() == drawn.parameters());
  const auto a = sim::world(drawn).run(), b = sim::world(read).run();
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(a.requests == b.requests);
  CHECK(a.violations == b.violations);
}

TEST_CASE("case file errors name the file, the line and the key", "[sim][case_file]") {
  const auto good = text_of(sim::make_swarm_scenario(3));
  // The case with the line of `key` set to `line` (empty: removed), and that line's number.
  auto with_line = [&](const std::string& key, const std::string& line) {
    auto t = good;
    const auto at = t.find("\n" + key + " ") + 1;
    REQUIRE(at != 0);
    return t.replace(at, t.find('\n', at) + 1 - at, line.empty() ? "" : line + "\n");
  };
  auto line_of = [&](const std::string& key) {
    const auto at = good.find("\n" + key + " ") + 1;
    return "t.case:" +
           std::to_string(std::count(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(at), '\n') + 1);
  };
  struct bad {
    std::string text, expected;
  };
  const auto c = GENERATE_REF(values<bad>({
      {with_line("seed", "seed x"), line_of("seed") + ": seed: expected a whole number, got 'x'"},
      {with_line("swarm.heal_at", "swarm.heal_at soon"),
       line_of("swarm.heal_at") + ": swarm.heal_at: expected a duration"},
      {with_line("client_hosts", "client_hostz 4"), line_of("client_hosts") + ": client_hostz: unknown key"},
      {with_line("seed", ""), "t.case: seed: missing"},
      {with_line("balance", "balance fastest"), line_of("balance") + ": balance: unknown policy 'fastest'"},
      {good + "fault 99s crash up9\n", ": fault: no upstream named up9"},
      {good + "seed 4\n", ": seed: given twice"},
      {with_line("proxy_workers", "proxy_workers 0"),
       line_of("proxy_workers") + ": proxy_workers: at least 1 expected"},
  }));
  try {
    (void)read_text(c.text);
    FAIL("read a bad case: expected " << c.expected);
  } catch (const sim::case_error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(c.expected) != std::string::npos);
    CHECK(std::string(e.what()).starts_with("t.case:"));
  }
}
