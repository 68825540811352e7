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
