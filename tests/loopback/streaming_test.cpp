// Bodies far larger than the proxy's buffers pass through the built balancebeam in
// constant memory: a 1 GiB response and a 64 MiB request body, each framed by
// Content-Length and by chunked encoding, verified byte for byte against bulk_pattern
// while the proxy's resident memory is sampled.

#include "bulk_body.hpp"
#include "bulk_upstream.hpp"
#include "checks.hpp"
#include "rss_sampler.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>

using namespace bb_test;

namespace {

constexpr std::uint64_t mib = std::uint64_t{1} << 20;
constexpr std::uint64_t gib = std::uint64_t{1} << 30;
/// How much the proxy's resident memory may grow while a bulk body passes: its buffers
/// are tens of KiB per connection, so even a few MiB would mean it holds the body.
constexpr std::uint64_t rss_growth_bound = 16 * mib;

/// A raw client connection, for bodies streamed in and out without holding them.
struct bulk_client {
  explicit bulk_client(std::uint16_t port) : s(try_connect(port)), in(s.get()) {
    if (!s) throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }

  /// Reads a response head; its body is left to read_bulk_body.
  message_head read_head() {
    const auto raw = in.read_through("\r\n\r\n");
    if (!raw) throw std::runtime_error("connection closed instead of a response");
    return parse_head(*raw);
  }

  /// Sends a GET and reads the response into `body`; the head is returned.
  message_head get(const std::string& path, bulk_checker& body) {
    send_all(s.get(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n\r\n");
    auto head = read_head();
    std::size_t length = 0;
    const auto f = framing_of(head.fields, true, length);  // sets length: call it first
    read_bulk_body(in, f, length, body);
    return head;
  }

  /// Sends a POST with `n` pattern bytes and returns the upstream's answer (a summary).
  std::string post(std::uint64_t n, bool chunked) {
    send_all(s.get(), "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sent-by: balancebeam-tests\r\n" +
                          (chunked ? std::string("Transfer-Encoding: chunked\r\n")
                                   : "Content-Length: " + std::to_string(n) + "\r\n") +
                          "\r\n");
    send_bulk_body(s.get(), n, chunked);
    const auto head = read_head();
    std::size_t length = 0;
    if (framing_of(head.fields, true, length) != framing::length)
      throw std::runtime_error("the upload's answer has no Content-Length: " + head.first_line);
    return head.first_line + "\n" + in.read_exactly(length);
  }

  unique_fd s;
  wire_reader in;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("balancebeam streams a 1 GiB response through in constant memory", "[loopback][balancebeam]") {
  const auto framing_name = GENERATE(as<std::string>{}, "length", "chunked");
  INFO("upstream framing: " << framing_name);
  bulk_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});
  bulk_client client(proxy.port());

  // A first 1 MiB exchange allocates whatever a connection and the pool keep.
  bulk_checker warm_up;
  client.get("/" + framing_name + "/" + std::to_string(mib), warm_up);
  REQUIRE(warm_up.count() == mib);
  const auto baseline = resident_bytes(proxy.child().pid());
  REQUIRE(baseline > 0);

  const auto started = std::chrono::steady_clock::now();
  bulk_checker body;
  rss_sampler rss(proxy.child().pid());
  const auto head = client.get("/" + framing_name + "/" + std::to_string(gib), body);
  const auto peak = rss.stop();
  const auto took = seconds_since(started);

  INFO(head.first_line << "; " << body.summary() << " in " << took << " s; proxy RSS " << baseline / 1024
                       << " KiB before, peak " << peak / 1024 << " KiB");
  CHECK(head.first_line == "HTTP/1.1 200 OK");
  if (framing_name == "length") CHECK(find_field(head.fields, "content-length") == std::to_string(gib));
  else CHECK(find_field(head.fields, "transfer-encoding") == "chunked");
  CHECK(body.count() == gib);
  CHECK(body.intact());
  CHECK(peak < baseline + rss_growth_bound);

  // The connection is still in step: the body's end was found exactly.
  bulk_checker after;
  CHECK(client.get("/length/10", after).first_line == "HTTP/1.1 200 OK");
  CHECK(after.count() == 10);
  CHECK(after.intact());
  stop_cleanly(proxy);
}

TEST_CASE("balancebeam streams a 64 MiB request body through in constant memory", "[loopback][balancebeam]") {
  const bool chunked = GENERATE(false, true);
  INFO("request framing: " << (chunked ? "chunked" : "length"));
  bulk_upstream upstream;
  auto proxy = start_balancebeam({upstream.address()});
  bulk_client client(proxy.port());

  CHECK(client.post(mib, chunked) == "HTTP/1.1 200 OK\n" + std::to_string(mib) + " bytes, intact\n");
  const auto baseline = resident_bytes(proxy.child().pid());
  REQUIRE(baseline > 0);

  const auto started = std::chrono::steady_clock::now();
  rss_sampler rss(proxy.child().pid());
  const auto answer = client.post(64 * mib, chunked);
  const auto peak = rss.stop();

  INFO("in " << seconds_since(started) << " s; proxy RSS " << baseline / 1024 << " KiB before, peak " << peak / 1024
             << " KiB");
  CHECK(answer == "HTTP/1.1 200 OK\n" + std::to_string(64 * mib) + " bytes, intact\n");
  CHECK(peak < baseline + rss_growth_bound);

  // The connection is still in step after the body.
  CHECK(client.post(10, chunked) == "HTTP/1.1 200 OK\n10 bytes, intact\n");
  stop_cleanly(proxy);
}
