// What goes upstream is in canonical form (issue 13): the exact bytes an upstream receives
// for requests whose framing came as lists or repeats, and the requests whose Host or
// target no server could be trusted to read alike, which never reach an upstream.

#include "checks.hpp"
#include "http_client.hpp"
#include "http_wire.hpp"
#include "server_process.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

using namespace bb_test;

namespace {

/// Records the raw head and the body of every request it receives; answers 200 "ok".
class capture_upstream {
public:
  capture_upstream() : server_([this](int fd) { serve(fd); }) {}
  [[nodiscard]] std::string address() const { return server_.address(); }
  /// (head as received, body as decoded) of every request so far.
  std::vector<std::pair<std::string, std::string>> requests() {
    std::lock_guard lock(m_);
    return seen_;
  }

private:
  void serve(int fd) {
    each_request(fd, [&](const upstream_request& r, wire_reader& in) {
      auto body = r.read_body(in);
      {
        std::lock_guard lock(m_);
        seen_.emplace_back(r.raw, std::move(body));
      }
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      return true;
    });
  }

  std::mutex m_;
  std::vector<std::pair<std::string, std::string>> seen_;
  test_server server_;  // last
};

}  // namespace

TEST_CASE("balancebeam forwards a body's framing upstream as one canonical field",
          "[loopback][balancebeam][canonical]") {
  struct row {
    std::string framing;  // the client's framing fields
    std::string body;     // as the client sends it
    std::string upstream_framing;
    std::string decoded;
  };
  const auto r = GENERATE(
      row{"Transfer-Encoding: chunked,\r\n", "5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n", "hello"},
      row{"Transfer-Encoding: , chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n", "hello"},
      row{"Transfer-Encoding: ,\r\nTransfer-Encoding: CHUNKED\r\n", "5\r\nhello\r\n0\r\n\r\n",
          "Transfer-Encoding: chunked\r\n", "hello"},
      row{"Content-Length: 5, 5\r\n", "hello", "Content-Length: 5\r\n", "hello"},
      row{"Content-Length: 5 ,5\r\n", "hello", "Content-Length: 5\r\n", "hello"},
      row{"Content-Length: 5\r\nContent-Length: 5\r\n", "hello", "Content-Length: 5\r\n", "hello"},
      row{"Content-Length: 0005\r\n", "hello", "Content-Length: 5\r\n", "hello"});
  INFO(r.framing);
  capture_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--threads", "1", "--active-health-check-interval", "0"});
  http_client c(proxy.port());
  // The id is the client's, so that the bytes upstream are known to the byte.
  c.send_raw("POST /x HTTP/1.1\r\nHost: a\r\nX-Request-Id: canon-1\r\n" + r.framing + "\r\n" + r.body);
  const auto resp = c.read_response();
  CHECK(resp.status == 200);
  const auto seen = upstream.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].first == "POST /x HTTP/1.1\r\nHost: a\r\n" + r.upstream_framing +
                             "X-Forwarded-For: 127.0.0.1\r\nX-Request-Id: canon-1\r\n\r\n");
  CHECK(seen[0].second == r.decoded);
  // The connection is still in step: the next request on it goes through.
  CHECK(c.get("/next").status == 200);
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam refuses a Host, target or method no upstream could read alike, and forwards none of it",
          "[loopback][balancebeam][canonical]") {
  struct row {
    std::string request;
    int status;
  };
  const auto r = GENERATE(
      row{"GET / HTTP/1.1\r\nHost: a/b c\r\n\r\n", 400}, row{"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400},
      row{"GET / HTTP/1.1\r\nHost: \"a\"\r\n\r\n", 400}, row{"GET / HTTP/1.1\r\nHost: <a>\r\n\r\n", 400},
      row{"GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400}, row{"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      row{"GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400}, row{"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      row{"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 501},
      row{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501});
  INFO(r.request);
  capture_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--threads", "1", "--active-health-check-interval", "0"});
  http_client c(proxy.port());
  c.send_raw(r.request);
  const auto resp = c.read_response();
  CHECK(resp.status == r.status);
  CHECK(resp.header("Connection") == "close");
  CHECK(c.closed_by_peer());
  CHECK(upstream.requests().empty());
  // One line with the reason.
  CHECK_THAT(proxy.child().err(),
             Catch::Contains("bad request: ") && Catch::Contains("-> " + std::to_string(r.status)));
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam forwards OPTIONS * and absolute-form targets as they came",
          "[loopback][balancebeam][canonical]") {
  capture_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--threads", "1", "--active-health-check-interval", "0"});
  http_client c(proxy.port());
  CHECK(c.request("OPTIONS", "*").status == 200);
  CHECK(c.get("http://a.example:8080/p?q").status == 200);
  const auto seen = upstream.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].first.starts_with("OPTIONS * HTTP/1.1\r\n"));
  CHECK(seen[1].first.starts_with("GET http://a.example:8080/p?q HTTP/1.1\r\n"));
  stop_cleanly(proxy);
}
