#include <bb/proxy/io_buffer.hpp>

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
