// The demo origin server (apps/origin): its three modes, behind balancebeam as a user
// would deploy it, and its summary line on SIGTERM.

#include "checks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace bb_test;

TEST_CASE("origin in echo mode answers like the cs110l echo upstream behind balancebeam", "[loopback][origin]") {
  auto origin = start_origin({"--mode", "echo"});
  auto proxy = start_balancebeam({origin.address()});

  {
    http_client client(proxy.port());
    check_echo(client.get("/first_url"), "GET /first_url HTTP/1.1");
    const auto post = client.post("/first_url", "Hello world!");
    check_echo(post, "POST /first_url HTTP/1.1");
    CHECK_THAT(post.body, Catch::EndsWith("\n\nHello world!"));

    // A chunked body is echoed decoded.
    client.send_raw(
        "POST /chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n"
        "Transfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n7\r\n world!\r\n0\r\n\r\n");
    const auto chunked = client.read_response();
    check_echo(chunked, "POST /chunked HTTP/1.1");
    CHECK_THAT(chunked.body, Catch::EndsWith("\n\nHello world!"));
  }

  stop_cleanly(proxy);
  stop_cleanly(origin);
  CHECK(origin.child().out() == "origin " + origin.address() + " served 3 requests\n");
}

TEST_CASE("origin in fixed mode answers every pipelined request with its body", "[loopback][origin]") {
  auto origin = start_origin({"--threads", "2"});
  http_client client(origin.port());
  client.send_raw(http_client::format("GET", "/a") + http_client::format("GET", "/b"));
  for (int i = 0; i < 2; ++i) {
    const auto r = client.read_response();
    CHECK(r.status == 200);
    CHECK(r.body == "hello from " + origin.address() + "\n");
  }
  const auto custom = start_origin({"--body", "custom"});
  CHECK(http_client(custom.port()).get("/").body == "custom");
}

TEST_CASE("origin in error mode answers 500 with an empty body", "[loopback][origin]") {
  auto origin = start_origin({"--mode", "error"});
  http_client client(origin.port());
  const auto r = client.get("/");
  CHECK(r.status == 500);
  CHECK(r.header("content-length") == "0");
  CHECK(r.body.empty());
  // Still keep-alive.
  CHECK(client.get("/again").status == 500);
  stop_cleanly(origin);
  CHECK(origin.child().out() == "origin " + origin.address() + " served 2 requests\n");
}

TEST_CASE("origin rejects a malformed flag with exit 2 and one line naming the flag", "[loopback][origin]") {
  const auto [args, named] = GENERATE(table<std::vector<std::string>, std::string>({
      {{"--mode", "mirror"}, "--mode"},
      {{"--bind", "localhost"}, "--bind"},
      {{"--threads", "0"}, "--threads"},
  }));
  child_process c(BB_ORIGIN_PATH, args);
  const auto st = run_to_exit(c);
  const auto err = c.err();
  INFO("stderr: " << err);
  CHECK(st == exit_code(2));
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  CHECK_THAT(err, Catch::Contains(named));
}
