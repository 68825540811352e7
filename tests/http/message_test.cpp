#include "bb/http/message.hpp"
#include "bb/http/error.hpp"

#include <catch2/catch.hpp>

#include <string>

using bb::http::error;
using bb::http::header_list;

TEST_CASE("iequals compares ASCII names ignoring case", "[http][message]") {
  STATIC_REQUIRE(bb::http::iequals("Content-Length", "content-LENGTH"));
  STATIC_REQUIRE_FALSE(bb::http::iequals("Content-Length", "Content-Lengt"));
  STATIC_REQUIRE_FALSE(bb::http::iequals("\xc3\xa9", "\xc3\x89"));  // no Unicode folding
  STATIC_REQUIRE_FALSE(bb::http::iequals("[", "{"));                // only letters fold
}

TEST_CASE("find_header returns the first value by name", "[http][message]") {
  const header_list headers{{"Host", "a"}, {"X-Empty", ""}, {"host", "b"}};
  CHECK(bb::http::find_header(headers, "HOST") == std::optional<std::string_view>("a"));
  CHECK(bb::http::find_header(headers, "x-empty") == std::optional<std::string_view>(""));
  CHECK_FALSE(bb::http::find_header(headers, "Missing"));
  CHECK(bb::http::count_headers(headers, "host") == 2);
}

TEST_CASE("connection_has_token reads every Connection field as one token list", "[http][message]") {
  const header_list headers{{"Connection", "keep-alive ,\tX-Foo"}, {"Other", "close"}, {"connection", ",, Upgrade,"}};
  const auto [token, present] = GENERATE(table<std::string, bool>({
      {"keep-alive", true},
      {"x-foo", true},
      {"UPGRADE", true},
      {"close", false},
      {"X-Fo", false},
      {"", false},
  }));
  INFO(token);
  CHECK(bb::http::connection_has_token(headers, token) == present);
}

TEST_CASE("error converts to std::error_code in the bb.http category", "[http][error]") {
  const std::error_code ec = error::bad_chunk;
  CHECK(ec.category() == bb::http::error_category());
  CHECK(std::string(ec.category().name()) == "bb.http");
  CHECK(ec.message() == "malformed chunked body");
  CHECK(ec == error::bad_chunk);
  CHECK(ec != error::bad_header);
  CHECK(bb::http::make_error_code(error::bad_header).value() == static_cast<int>(error::bad_header));
}

TEST_CASE("status_for maps each error to the status the proxy answers with", "[http][error]") {
  const auto [e, status] = GENERATE(table<error, int>({
      {error::bad_request_line, 400},
      {error::bad_version, 400},
      {error::unsupported_version, 505},
      {error::bad_header, 400},
      {error::header_too_large, 431},
      {error::uri_too_long, 414},
      {error::bad_content_length, 400},
      {error::conflicting_content_length, 400},
      {error::content_length_and_transfer_encoding, 400},
      {error::bad_transfer_encoding, 400},
      {error::unsupported_transfer_encoding, 501},
      {error::body_too_large, 413},
      {error::bad_chunk, 400},
      {error::too_many_headers, 431},
      {error::bad_status_line, 502},
  }));
  const std::error_code ec = e;
  INFO(ec.message());
  CHECK(ec.message() != "unknown bb.http error");
  CHECK(bb::http::status_for(ec) == status);
}

TEST_CASE("status_for leaves other categories to the caller as 500", "[http][error]") {
  CHECK(bb::http::status_for(std::make_error_code(std::errc::connection_reset)) == 500);
  CHECK(bb::http::status_for({}) == 500);
}

TEST_CASE("reason_phrase knows the standard phrases", "[http][error]") {
  const auto [status, phrase] = GENERATE(table<int, std::string>({
      {200, "OK"},
      {204, "No Content"},
      {400, "Bad Request"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {505, "HTTP Version Not Supported"},
      {299, "Unknown"},
      {-1, "Unknown"},
  }));
  CHECK(bb::http::reason_phrase(status) == phrase);
}
