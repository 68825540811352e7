// bb::http request ids: which client ids are kept, the form of new ones, and that the
// forwarded head carries exactly one X-Request-Id.

#include <bb/http/request_id.hpp>
#include <bb/http/request_parser.hpp>
#include <bb/http/serialize.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("valid_request_id keeps ids of 1-128 letters, digits and -_.:+/=@~ only", "[http][request_id]") {
  const auto [id, valid] = GENERATE(table<std::string, bool>({
      {"abc-123", true},
      {"6cdd010f-ac47-bb70-42fa-655430148225", true},
      {"01HGW2N7EB4PQZ3M8XKV6J9TQR", true},
      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
      {"dGVzdA==", true},
      {"a/b+c:d@e~f_g.h", true},
      {std::string(128, 'x'), true},
      {std::string(129, 'x'), false},
      {"", false},
      {"has space", false},
      {"quote\"", false},
      {"back\\slash", false},
      {"semi;colon", false},
      {"comma,list", false},
      {"tab\t", false},
      {"\xc3\xa9t\xc3\xa9", false},
  }));
  INFO("id '" << id << "'");
  CHECK(bb::http::valid_request_id(id) == valid);
}

TEST_CASE("append_request_id writes 32 lowercase hex digits, high word first", "[http][request_id]") {
  std::string out = "id=";
  bb::http::append_request_id(out, 0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  CHECK(out == "id=0123456789abcdeffedcba9876543210");
  std::string zero;
  bb::http::append_request_id(zero, 0, 1);
  CHECK(zero == "00000000000000000000000000000001");
  CHECK(bb::http::valid_request_id(zero));
}

TEST_CASE("append_forwarded_request replaces every client X-Request-Id with the request's id", "[http][request_id]") {
  const std::string raw =
      "GET /x HTTP/1.1\r\nHost: h\r\nX-Request-Id: theirs\r\nAccept: */*\r\nx-request-id: again\r\n\r\n";
  bb::http::request_parser p;
  bb::http::request_head h;
  REQUIRE(p.feed(raw, h).st == bb::http::parse_state::done);
  std::string with_id;
  bb::http::append_forwarded_request(with_id, h, "10.0.0.9", false, "ours");
  CHECK(with_id ==
        "GET /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.9\r\nX-Request-Id: ours\r\n\r\n");
  std::string without;  // no id given: the client's fields pass as they are
  bb::http::append_forwarded_request(without, h, "10.0.0.9", false);
  CHECK(without ==
        "GET /x HTTP/1.1\r\nHost: h\r\nX-Request-Id: theirs\r\nAccept: */*\r\nx-request-id: again\r\n"
        "X-Forwarded-For: 10.0.0.9\r\n\r\n");
}
