#include <catch2/catch.hpp>
#include <cstdint>
#include <sim/id_window.hpp>

namespace sim = bb::sim;

TEST_CASE("id_window keeps values from its first id on and forgets those below", "[sim][id_window]") {
  sim::id_window<std::uint64_t> w;
  *w.at(3) = 30;
  CHECK(w.find(1) != nullptr);  // value-initialized on the way to 3
  CHECK(*w.find(1) == 0);
  CHECK(*w.find(3) == 30);
  CHECK(w.find(4) == nullptr);
  w.forget_below(3);
  CHECK(w.first() == 3);
  CHECK(w.find(2) == nullptr);
  CHECK(w.at(2) == nullptr);
  CHECK(*w.find(3) == 30);
  w.forget_below(10);  // past everything it held
  CHECK(w.size() == 0);
  CHECK(w.first() == 10);
  *w.at(10) = 1;
  *w.at(11) = 0;
  w.forget_while([](std::uint64_t v) { return v == 1; });
  CHECK(w.first() == 11);
  CHECK(w.size() == 1);
}
