#include <bb/proxy/io_buffer.hpp>
#include <bb/upstream/pool.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

namespace {
void put(bb::io_buffer& b, std::string_view s) {
  auto w = b.writable();
  REQUIRE(w.size() >= s.size());
  std::memcpy(w.data(), s.data(), s.size());
  b.commit(s.size());
}
}  // namespace

TEST_CASE("io_buffer keeps unconsumed bytes contiguous across compaction", "[proxy][io_buffer]") {
  bb::io_buffer b(8);
  put(b, "abcdefgh");
  CHECK(b.full());
  b.consume(5);
  CHECK(b.readable() == "fgh");
  auto w = b.writable();  // the tail is full: the rest moves to the front
  CHECK(w.size() == 5);
  CHECK(b.readable() == "fgh");
  put(b, "ij");
  CHECK(b.readable() == "fghij");
}

TEST_CASE("io_buffer rewinds when everything is consumed and frees storage only when empty", "[proxy][io_buffer]") {
  bb::io_buffer b(4);
  put(b, "ab");
  b.release_if_empty();
  CHECK(b.readable() == "ab");
  b.consume(2);
  CHECK(b.empty());
  b.release_if_empty();
  CHECK(b.writable().size() == 4);
}

namespace {
struct fake_stream {
  int id;
  bool* closed;
  void close() { *closed = true; }
};
}  // namespace

TEST_CASE("connection_pool reuses the newest idle connection and caps idle ones", "[proxy][pool]") {
  bb::connection_pool<fake_stream> pool(2, 2);
  bool c1 = false, c2 = false, c3 = false;
  CHECK_FALSE(pool.take(0));
  pool.give_back(0, {1, &c1});
  pool.give_back(0, {2, &c2});
  pool.give_back(0, {3, &c3});  // over the cap: closed, not kept
  CHECK(c3);
  CHECK_FALSE(pool.take(1));
  auto s = pool.take(0);
  REQUIRE(s);
  CHECK(s->id == 2);
  pool.clear();
  CHECK(c1);
  CHECK_FALSE(c2);  // taken out before clear: the taker owns it
}

TEST_CASE("connection_pool closes connections idle past the timeout, oldest first", "[proxy][pool]") {
  bb::connection_pool<fake_stream> pool(2, 4);
  bool a = false, b = false, c = false;
  pool.give_back(0, {1, &a}, 100);
  pool.give_back(0, {2, &b}, 300);
  pool.give_back(1, {3, &c}, 200);
  CHECK(pool.expire(399, 200) == 1);  // 299 idle: the first only
  CHECK(a);
  CHECK_FALSE(b);
  CHECK(pool.idle(0) == 1);
  CHECK(pool.expire(500, 300) == 1);  // upstream 1's, idle exactly 300
  CHECK(c);
  CHECK(pool.idle(1) == 0);
  CHECK(pool.expire(500, 300) == 0);
  auto s = pool.take(0);
  REQUIRE(s);
  CHECK(s->id == 2);
}

TEST_CASE("connection_pool never reuses a connection from before the host came back", "[proxy][pool]") {
  bb::connection_pool<fake_stream> pool(1, 4);
  bool old1 = false, old2 = false, fresh = false;
  pool.give_back(0, {1, &old1}, 0, 7);
  pool.give_back(0, {2, &old2}, 0, 7);
  CHECK_FALSE(pool.take(0, 8));  // the host went down and came back since: both closed
  CHECK(old1);
  CHECK(old2);
  CHECK(pool.idle(0) == 0);
  pool.give_back(0, {3, &fresh}, 0, 8);
  auto s = pool.take(0, 8);
  REQUIRE(s);
  CHECK(s->id == 3);
  CHECK_FALSE(fresh);
}
