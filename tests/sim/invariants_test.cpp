#include <catch2/catch.hpp>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <sim/trace.hpp>

namespace sim = bb::sim;

TEST_CASE("invariants report a response that names another request as a wrong answer", "[sim][invariants]") {
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv(ex, tr);
  const auto a = inv.issue(1, 0), b = inv.issue(1, 0);
  inv.respond(a, 1, 200, true, true, a);
  CHECK(inv.violations() == 0);
  inv.respond(b, 1, 200, true, true, a);
  CHECK(inv.violations() == 1);
  CHECK(inv.first().starts_with("wrong_answer (#2)"));
}

TEST_CASE("invariants judge another request's answer alone, not its outcome as well", "[sim][invariants]") {
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv(ex, tr);
  const auto a = inv.issue(1, 0), b = inv.issue(1, 0);
  inv.respond(b, 1, 413, false, true, a);  // a 4xx the scenario does not allow, naming another
  CHECK(inv.violations() == 1);
  CHECK(inv.first().starts_with("wrong_answer (#2)"));
}

TEST_CASE("invariants let an answer judge excuse another request's answer", "[sim][invariants]") {
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv(ex, tr);
  const auto a = inv.issue(1, 0), b = inv.issue(1, 0), c = inv.issue(1, 0);
  inv.set_answer_judge([&](std::uint64_t id, std::uint64_t named) { return id == b && named == a; });
  inv.respond(b, 1, 200, false, true, a);
  CHECK(inv.violations() == 0);
  inv.respond(c, 1, 200, false, true, a);
  CHECK(inv.violations() == 1);
  inv.unparsable(a);  // a parse failure goes to the same judge, which does not excuse it
  CHECK(inv.violations() == 2);
}
