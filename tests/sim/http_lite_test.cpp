#include <algorithm>
#include <bb/core/sync_wait.hpp>
#include <catch2/catch.hpp>
#include <coroutine>
#include <sim/error.hpp>
#include <sim/http_lite.hpp>
#include <string>
#include <utility>

namespace sim = bb::sim;
namespace http_lite = sim::http_lite;

namespace {

/// A stream that gives `data` in reads of at most `chunk` bytes, then the end of stream.
struct canned {
  std::string data;
  std::size_t chunk = 7;
  std::size_t at = 0;
  struct awaiter {
    canned* s;
    std::span<char> buf;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    bb::io_result await_resume() {
      if (s->at == s->data.size()) return {sim::eof(), 0};
      const auto n = std::min({buf.size(), s->chunk, s->data.size() - s->at});
      std::copy_n(s->data.data() + s->at, n, buf.data());
      s->at += n;
      return {{}, n};
    }
  };
  awaiter read_some(std::span<char> buf) { return {this, buf}; }
};

/// Reads one message from `s` as `how` says.
std::pair<std::error_code, http_lite::message> read_one(http_lite::reader& rd, canned& s,
                                                        http_lite::reader::framing how) {
  http_lite::message m;
  const auto ec = bb::sync_wait(rd.read(s, how, m));
  return {ec, m};
}

}  // namespace

TEST_CASE("http_lite reads no body after a HEAD answer or a 204, whatever their heads say", "[sim][http_lite]") {
  canned s{
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Sim-Answers: 7\r\n\r\n"
      "HTTP/1.1 204 OK\r\nX-Sim-Answers: 8\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Sim-Answers: 9\r\n\r\nhello"};
  http_lite::reader rd;
  auto [ec1, head] = read_one(rd, s, {true, true});
  REQUIRE_FALSE(ec1);
  CHECK(head.status == 200);
  CHECK(head.answers == 7);
  CHECK(head.body.empty());
  auto [ec2, empty] = read_one(rd, s, {true, false});
  REQUIRE_FALSE(ec2);
  CHECK(empty.status == 204);
  CHECK(empty.answers == 8);
  auto [ec3, full] = read_one(rd, s, {true, false});
  REQUIRE_FALSE(ec3);
  CHECK(full.answers == 9);
  CHECK(full.body == "hello");
}

TEST_CASE("http_lite refuses a response that names two requests", "[sim][http_lite]") {
  canned s{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Sim-Answers: 7\r\nX-Sim-Answers: 8\r\n\r\n"};
  http_lite::reader rd;
  CHECK(read_one(rd, s, {}).first == std::errc::bad_message);
}

TEST_CASE("http_lite reads a request head alone and then the whole request", "[sim][http_lite]") {
  canned s{http_lite::make_request("POST", "/r/12", "0123456789", false)};
  http_lite::reader rd;
  auto [ec1, head] = read_one(rd, s, {false, false, true});
  REQUIRE_FALSE(ec1);
  CHECK(head.method == "POST");
  CHECK(head.content_length == 10);
  CHECK(head.body.empty());
  auto [ec2, whole] = read_one(rd, s, {false});
  REQUIRE_FALSE(ec2);
  CHECK(whole.body == "0123456789");
}

TEST_CASE("http_lite names the request of a head the proxy writes", "[sim][http_lite]") {
  CHECK(http_lite::request_of("GET /r/42/7 HTTP/1.1\r\n").id == 42);
  CHECK(http_lite::request_of("HEAD /r/43/7 HTTP/1.1\r\n").method == "HEAD");
  CHECK(http_lite::request_of("POST /r/44 HTTP/1.1\r\n").id == 44);
  CHECK(http_lite::request_of("GET / HTTP/1.1\r\n").id == 0);
  CHECK(http_lite::request_of("abcdefghij").id == 0);  // body bytes
}
