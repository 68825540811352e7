// The per-worker cache of refusals a remote store gave: refused until the store's time
// without asking, the figures counted down, then forgotten.

#include <bb/limit/refusal_cache.hpp>
#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using ns = std::chrono::nanoseconds;

TEST_CASE("refusal_cache refuses until the store's time, with its figures counted down", "[limit][refusal_cache]") {
  bb::refusal_cache c;
  const bb::client_key k{0, 0x0000'ffff'0a00'0001};
  c.insert(k, 10s, 30s, 5, 0s);
  auto d = c.find(k, 4s);
  REQUIRE(d);
  CHECK_FALSE(d->allowed);
  CHECK(d->limit == 5);
  CHECK(d->remaining == 0);
  CHECK(d->retry_after_ns == ns(6s).count());
  CHECK(d->reset_after_ns == ns(26s).count());
  CHECK(d->figures);
  CHECK_FALSE(c.find(bb::client_key{0, 1}, 4s));
  CHECK_FALSE(c.find(k, 10s));  // the store admits again from then on
  CHECK(c.size() == 0);
}

TEST_CASE("refusal_cache drops a refusal when full of live ones, and makes room from expired ones",
          "[limit][refusal_cache]") {
  bb::refusal_cache c(2);
  c.insert({0, 1}, 10s, 10s, 1, 0s);
  c.insert({0, 2}, 5s, 5s, 1, 0s);
  c.insert({0, 3}, 10s, 10s, 1, 1s);  // full of live refusals: not kept
  CHECK_FALSE(c.find({0, 3}, 2s));
  c.insert({0, 3}, 10s, 10s, 1, 6s);  // {0, 2} has expired: room
  CHECK(c.find({0, 3}, 6s));
  CHECK(c.find({0, 1}, 6s));
  c.clear();
  CHECK(c.size() == 0);
}
