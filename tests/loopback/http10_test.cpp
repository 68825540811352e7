// An HTTP/1.0 client cannot decode chunked: the built balancebeam sends it a chunked
// response's body de-chunked, without Transfer-Encoding or trailers, delimited by closing
// the connection; an HTTP/1.1 client still gets the chunks.

#include "bulk_body.hpp"
#include "bulk_upstream.hpp"
#include "checks.hpp"
#include "quiet_proxy.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

using namespace bb_test;

namespace {

/// An upstream whose chunked answers come in small pieces: "GET /pieces" gets the body
/// "abcdefg" as chunks with extensions and a trailer, each framing part its own write.
class pieces_upstream {
public:
  pieces_upstream() : server_([](int fd) { serve(fd); }) {}
  [[nodiscard]] std::string address() const { return server_.address(); }

private:
  static void serve(int fd) {
    each_request(fd, [fd](const upstream_request& r, wire_reader&) {
      if (r.target != "/pieces") {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
        return true;
      }
      send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n");
      for (const char* piece :
           {"3;ext=1\r\n", "abc", "\r\n", "1\r\nd\r\n", "3\r\nefg\r\n", "0\r\n", "X-Sum: 7\r\n", "\r\n"}) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        send_all(fd, piece);
      }
      return true;
    });
  }
  test_server server_;
};

/// Sends an HTTP/1.0 GET on a fresh connection; the response head, the rest in `in`.
message_head get10(unique_fd& s, wire_reader& in, const std::string& path, std::string_view extra = {}) {
  send_all(s.get(), "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + std::string(extra) + "\r\n");
  const auto raw = in.read_through("\r\n\r\n");
  if (!raw) throw std::runtime_error("connection closed instead of a response");
  return parse_head(*raw);
}

}  // namespace

TEST_CASE("balancebeam de-chunks a chunked response for an HTTP/1.0 client and closes after it", "[loopback][http10]") {
  // keep-alive asked for or not: the body's end is the connection's.
  const std::string connection = GENERATE("", "Connection: keep-alive\r\n");
  INFO(connection);
  pieces_upstream upstream;
  quiet_proxy proxy(upstream.address());

  {
    auto s = try_connect(proxy.port());
    REQUIRE(s);
    wire_reader in(s.get());
    const auto head = get10(s, in, "/pieces", connection);
    CHECK(head.first_line == "HTTP/1.1 200 OK");
    CHECK_FALSE(find_field(head.fields, "transfer-encoding"));
    CHECK_FALSE(find_field(head.fields, "content-length"));
    CHECK(find_field(head.fields, "connection") == "close");
    CHECK(in.read_to_end() == "abcdefg");  // no sizes, extensions or trailer
  }
  // The upstream's connection ended in step (the whole chunked body was read): pooled again.
  proxy.check_recovers();
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam still sends an HTTP/1.1 client the chunks", "[loopback][http10]") {
  pieces_upstream upstream;
  quiet_proxy proxy(upstream.address());

  http_client client(proxy.port());
  const auto r = client.get("/pieces");
  CHECK(r.header("transfer-encoding") == "chunked");
  CHECK(r.body == "abcdefg");
  CHECK(client.get("/next").status == 200);  // kept alive
  stop_cleanly(proxy.process());
}

TEST_CASE("balancebeam de-chunks a 64 MiB chunked response for an HTTP/1.0 client byte for byte",
          "[loopback][http10]") {
  bulk_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()}, {"--threads", "1"});

  constexpr std::uint64_t size = 64 << 20;
  auto s = try_connect(proxy.port());
  REQUIRE(s);
  wire_reader in(s.get());
  const auto head = get10(s, in, "/chunked/" + std::to_string(size));
  CHECK(head.first_line == "HTTP/1.1 200 OK");
  CHECK_FALSE(find_field(head.fields, "transfer-encoding"));
  bulk_checker body;
  read_bulk_body(in, framing::until_close, 0, body);
  INFO(body.summary());
  CHECK(body.count() == size);
  CHECK(body.intact());
  stop_cleanly(proxy);
}
