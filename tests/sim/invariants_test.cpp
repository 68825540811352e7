#include <catch2/catch.hpp>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <sim/trace.hpp>
#include <stdexcept>

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

TEST_CASE("invariants forget resolved requests yet still catch a second outcome and an unresolved one",
          "[sim][invariants]") {
  sim::executor ex;
  sim::trace tr;
  sim::invariants inv(ex, tr);
  const auto a = inv.issue(1, 0), b = inv.issue(1, 0);
  inv.respond(a, 1, 200, true, true);
  for (int i = 0; i < 1000; ++i) inv.respond(inv.issue(1, 0), 1, 200, true, true);
  CHECK(inv.oldest_unresolved() == b);  // b is outstanding: nothing from it on is forgotten
  inv.respond(b, 1, 200, true, true);
  const auto c = inv.issue(1, 0);
  CHECK(inv.oldest_unresolved() == c);
  CHECK_THROWS_AS(inv.issued_at(a), std::out_of_range);
  CHECK(inv.violations() == 0);
  inv.respond(a, 1, 200, true, true);  // forgotten, so resolved: a second outcome
  CHECK(inv.violations() == 1);
  CHECK(inv.first().starts_with("two_outcomes (#1)"));
  inv.check_all_resolved();
  CHECK(inv.violations() == 2);  // c never got one
  CHECK(inv.requests() == 1003);
}
