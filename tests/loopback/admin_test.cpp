// The admin listener (--admin) of the built balancebeam: /metrics counts what the test did
// and passes `promtool check metrics`; a real Prometheus scrapes it; /ready follows the
// upstreams; unknown paths and methods get precise answers.
//
// promtool and prometheus come from Debian's `prometheus` package (scripts/install-deps
// installs it): a test that needs them fails with a message saying so, never skips.

#include "checks.hpp"
#include "child_process.hpp"
#include "redis_server.hpp"
#include "test_upstream.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace bb_test;
using namespace std::chrono_literals;

namespace {

// The installed program `name` (Debian puts it in /usr/bin); fails the test when absent.
std::string program(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    const std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  FAIL(name << " is not installed: run scripts/install-deps (Debian's prometheus package)");
  return {};
}

// A fresh directory under /tmp, removed with its contents at the end of the scope.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    char tmpl[] = "/tmp/bb-admin-test.XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// balancebeam in front of `upstreams` with its admin listener on a port of its own.
struct proxy_with_admin {
  port_reservation admin_port;
  server_process proxy;

  proxy_with_admin(const std::vector<std::string>& upstreams, std::vector<std::string> extra = {})
      : proxy(start_balancebeam(upstreams, with_admin(admin_port, std::move(extra)))) {
    REQUIRE(eventually([&] { return static_cast<bool>(try_connect(admin_port.port())); }));
  }

  static std::vector<std::string> with_admin(const port_reservation& p, std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--admin", p.address()});
    return extra;
  }

  http_response admin_get(const std::string& path) { return http_client(admin_port.port()).get(path); }
};

// The value of the sample `series` (name and labels exactly as exposed) in `text`.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return std::nullopt;
}

std::string percent_encoded(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("balancebeam's /metrics counts requests, upstream answers and refusals, and promtool accepts it",
          "[loopback][balancebeam][admin]") {
  test_upstream first;
  test_upstream second;
  proxy_with_admin p({first.address(), second.address()}, {"--threads", "2"});

  for (int i = 0; i < 10; ++i) check_echo(http_client(p.proxy.port()).get("/n/" + std::to_string(i)), "GET /n/");
  {  // two Host fields: 400, counted by reason
    http_client c(p.proxy.port());
    c.send_raw("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    CHECK(c.read_response().status == 400);
  }

  // The proxy counts a request once its last byte is written, which may be after the client
  // has read it: scrape until all 11 are counted (bounded), then check every figure.
  http_response m;
  CHECK(eventually(
      [&] {
        m = p.admin_get("/metrics");
        return sample(m.body, "balancebeam_request_duration_seconds_count") == 11 &&
               sample(m.body, "balancebeam_requests_total{code_class=\"4xx\"}") == 1;
      },
      4000ms));
  REQUIRE(m.status == 200);
  CHECK(m.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  INFO(m.body);
  CHECK(sample(m.body, "balancebeam_requests_total{code_class=\"2xx\"}") == 10);
  CHECK(sample(m.body, "balancebeam_requests_total{code_class=\"4xx\"}") == 1);
  CHECK(sample(m.body, "balancebeam_request_errors_total{reason=\"bad_request\"}") == 1);
  CHECK(sample(m.body, "balancebeam_request_duration_seconds_count") == 11);
  CHECK(sample(m.body, "balancebeam_client_connections_total") >= 11);
  const auto to_first =
      sample(m.body, "balancebeam_upstream_requests_total{upstream=\"" + first.address() + "\",code_class=\"2xx\"}");
  const auto to_second =
      sample(m.body, "balancebeam_upstream_requests_total{upstream=\"" + second.address() + "\",code_class=\"2xx\"}");
  REQUIRE(to_first);
  REQUIRE(to_second);
  CHECK(*to_first + *to_second == 10);
  CHECK(*to_first == static_cast<double>(first.client_requests()));
  CHECK(sample(m.body, "balancebeam_upstream_up{upstream=\"" + first.address() + "\"}") == 1);
  CHECK(sample(m.body, "balancebeam_upstream_requests_in_flight{upstream=\"" + first.address() + "\"}") == 0);
  CHECK(sample(m.body, "balancebeam_build_info{version=\"0.1.0\"}") == 1);
  CHECK(sample(m.body, "process_open_fds") > 0);
  CHECK(sample(m.body, "process_resident_memory_bytes") > 0);

  temp_dir dir;
  const auto file = dir.path / "metrics.txt";
  std::ofstream(file) << m.body;
  child_process promtool("/bin/sh", {"-c", program("promtool") + " check metrics < " + file.string()});
  const auto st = run_to_exit(promtool, 30s);
  INFO("promtool: " << promtool.out() << promtool.err());
  CHECK(st.to_string() == "exit 0");
  stop_cleanly(p.proxy);
}

TEST_CASE("balancebeam's /ready answers 503 once every upstream is down and 200 when one returns, /live stays 200",
          "[loopback][balancebeam][admin]") {
  test_upstream first;
  test_upstream second;
  proxy_with_admin p({first.address(), second.address()}, {"--active-health-check-interval", "1"});
  CHECK(p.admin_get("/ready").status == 200);

  first.stop();
  second.stop();
  // Down after a failed check round: one interval, plus its jitter and the check's timeout.
  CHECK(eventually([&] { return p.admin_get("/ready").status == 503; }, 4000ms));
  CHECK(p.admin_get("/live").status == 200);
  CHECK(p.admin_get("/ready").body == "no upstream is up\n");
  const auto down = p.admin_get("/metrics").body;
  CHECK(sample(down, "balancebeam_upstream_up{upstream=\"" + first.address() + "\"}") == 0);
  CHECK(sample(down, "balancebeam_upstream_state_changes_total{upstream=\"" + first.address() + "\"}") == 1);
  CHECK(sample(down, "balancebeam_health_checks_total{upstream=\"" + first.address() + "\",result=\"failed\"}") >= 1);

  second.start();
  CHECK(eventually([&] { return p.admin_get("/ready").status == 200; }, 4000ms));
  const auto status = p.admin_get("/status.json");
  CHECK(status.status == 200);
  CHECK(status.header("content-type") == "application/json");
  CHECK_THAT(status.body, Catch::Contains("\"name\":\"" + second.address() + "\",\"up\":true"));
  CHECK_THAT(status.body, Catch::Contains("\"name\":\"" + first.address() + "\",\"up\":false"));
  stop_cleanly(p.proxy);
}

TEST_CASE("balancebeam's admin listener answers 404 to unknown paths, 405 to other methods, 400 to bad requests",
          "[loopback][balancebeam][admin]") {
  test_upstream up;
  proxy_with_admin p({up.address()});
  CHECK(p.admin_get("/nope").status == 404);
  CHECK(http_client(p.admin_port.port()).post("/metrics", "x").status == 405);
  http_client bad(p.admin_port.port());
  bad.send_raw("GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  CHECK(bad.read_response().status == 400);
  // The proxy's own traffic is not the admin listener's: nothing was proxied.
  CHECK(up.client_requests() == 0);
  stop_cleanly(p.proxy);
}

TEST_CASE("balancebeam exits 1 naming --admin when the admin address cannot be bound",
          "[loopback][balancebeam][admin]") {
  test_upstream up;
  port_reservation main_port;
  test_upstream taken;  // listens, so the admin bind fails with "address in use"
  child_process bb(BB_BALANCEBEAM_PATH,
                   {"--bind", main_port.address(), "--upstream", up.address(), "--admin", taken.address()});
  const auto st = run_to_exit(bb, 10s);
  CHECK(st.to_string() == "exit 1");
  CHECK_THAT(bb.err(), Catch::Contains("(--admin)"));
}

TEST_CASE("a real Prometheus scrapes balancebeam's /metrics: request rate and one up series per upstream",
          "[loopback][balancebeam][admin][prometheus]") {
  test_upstream first;
  test_upstream second;
  test_upstream third;
  proxy_with_admin p({first.address(), second.address(), third.address()});
  temp_dir dir;
  port_reservation web;
  std::ofstream(dir.path / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: balancebeam\n"
      << "    static_configs:\n      - targets: ['" << p.admin_port.address() << "']\n";
  child_process prometheus(program("prometheus"), {"--config.file=" + (dir.path / "prometheus.yml").string(),
                                                   "--storage.tsdb.path=" + (dir.path / "data").string(),
                                                   "--web.listen-address=" + web.address(), "--log.level=warn"});
  INFO("prometheus stderr:\n" << prometheus.err());
  REQUIRE(eventually(
      [&] {
        try {
          return http_client(web.port()).get("/-/ready").status == 200;
        } catch (const std::exception&) { return false; }
      },
      20000ms));

  const auto query = [&](const std::string& q) {
    return http_client(web.port()).get("/api/v1/query?query=" + percent_encoded(q)).body;
  };
  // Traffic for a few scrapes; then the rate over 5 s must be above zero.
  const auto until = std::chrono::steady_clock::now() + 6s;
  bool rate_seen = false;
  std::string last;
  while (std::chrono::steady_clock::now() < until || !rate_seen) {
    check_echo(http_client(p.proxy.port()).get("/scraped"), "GET /scraped");
    std::this_thread::sleep_for(20ms);
    if (std::chrono::steady_clock::now() < until) continue;
    last = query("sum(rate(balancebeam_requests_total[5s]))");
    static const std::regex value(R"re("value":\[[0-9.]+,"([0-9.e+-]+)"\])re");
    std::smatch m;
    if (std::regex_search(last, m, value) && std::stod(m[1]) > 0) rate_seen = true;
    if (std::chrono::steady_clock::now() > until + 15s) break;
  }
  INFO("last answer to the rate query: " << last);
  CHECK(rate_seen);
  const auto ups = query("count(balancebeam_upstream_up)");
  INFO("count(balancebeam_upstream_up): " << ups);
  CHECK_THAT(ups, Catch::Contains("\"3\"]"));
  prometheus.signal(SIGTERM);
  run_to_exit(prometheus, 10s);
  stop_cleanly(p.proxy);
}

TEST_CASE("every family balancebeam's /metrics exposes is documented in the README's metrics table",
          "[loopback][balancebeam][admin]") {
  test_upstream up;
  redis_server redis;  // the Redis store's families too
  proxy_with_admin p({up.address()}, {"--active-health-check-interval", "1", "--max-requests-per-minute", "100",
                                      "--rate-limit-store", redis.url()});
  // The store connects to Redis in the background: until it has, decisions are the on-error
  // policy's. Requests until one was Redis's (bounded).
  std::string body;
  REQUIRE(eventually([&] {
    check_echo(http_client(p.proxy.port()).get("/limited"), "GET /limited");
    body = p.admin_get("/metrics").body;
    return sample(body, "balancebeam_rate_limit_store_answers_total{source=\"redis\"}") >= 1;
  }));
  std::ifstream in(BB_README_PATH);
  REQUIRE(in);
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const std::regex type_line(R"(# TYPE ([a-z_]+) ([a-z]+))");
  int families = 0;
  for (std::sregex_iterator it(body.begin(), body.end(), type_line), end; it != end; ++it) {
    ++families;
    const std::string row = "| `" + (*it)[1].str() + "` | " + (*it)[2].str() + " |";
    INFO("README.md lacks the row " << row);
    CHECK(readme.find(row) != std::string::npos);
  }
  CHECK(families >= 28);
  const auto from_redis = sample(body, "balancebeam_rate_limit_store_answers_total{source=\"redis\"}");
  const auto on_error = sample(body, "balancebeam_rate_limit_store_answers_total{source=\"on_error\"}");
  REQUIRE(from_redis);
  REQUIRE(on_error);
  // Every request was allowed, by a script or by the on-error policy (allow), and every
  // script answer has its round trip counted.
  CHECK(sample(body, "balancebeam_rate_limit_decisions_total{decision=\"allowed\"}") == *from_redis + *on_error);
  CHECK(sample(body, "balancebeam_rate_limit_redis_round_trip_seconds_count") == *from_redis);
  stop_cleanly(p.proxy);
}

namespace {

// What headless Chromium makes of `url`: the DOM after loading it (--dump-dom), and with
// `screenshot` a PNG of the page. Bounded: Chromium is killed after 60 s.
std::string rendered_dom(const std::string& url, const std::string& screenshot = {}) {
  temp_dir profile;
  std::vector<std::string> args{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                "--user-data-dir=" + profile.path.string()};
  if (!screenshot.empty()) args.insert(args.end(), {"--window-size=1400,420", "--screenshot=" + screenshot});
  else args.push_back("--dump-dom");
  args.push_back(url);
  child_process chromium(program("chromium"), args);
  const auto st = run_to_exit(chromium, 60s);
  INFO("chromium: " << st.to_string() << "\n" << chromium.err());
  REQUIRE(st.to_string() == "exit 0");
  return chromium.out();
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("headless Chromium renders /status with one row per upstream, and a killed one shows DOWN within a check",
          "[loopback][balancebeam][admin][browser]") {
  test_upstream first;
  test_upstream second;
  test_upstream third;
  proxy_with_admin p({first.address(), second.address(), third.address()}, {"--active-health-check-interval", "1"});
  for (int i = 0; i < 30; ++i) check_echo(http_client(p.proxy.port()).get("/page"), "GET /page");
  const std::string url = "http://" + p.admin_port.address() + "/status";

  const auto before = rendered_dom(url);
  INFO(before);
  CHECK(count(before, "<tr class=\"upstream\">") == 3);
  CHECK(count(before, "<span class=\"state up\">UP</span>") == 3);
  CHECK(count(before, "<script") == 0);  // self-contained: nothing to fetch or run
  CHECK(count(before, "<link") == 0);
  CHECK_THAT(before, Catch::Contains("<td class=\"name\">" + second.address() + "</td>"));

  second.stop();
  // One check interval (1 s) plus its jitter (0.1 s) and the check's own failure; the page
  // is asked again until then and must show it by 2.5 s.
  const auto killed = std::chrono::steady_clock::now();
  std::string after;
  while (std::chrono::steady_clock::now() - killed < 2500ms) {
    after = rendered_dom(url);
    if (count(after, "DOWN</span>") == 1) break;
  }
  INFO(after);
  CHECK(count(after, "<span class=\"state down\">DOWN</span>") == 1);
  CHECK(count(after, "<span class=\"state up\">UP</span>") == 2);
  const auto row = after.find("<td class=\"name\">" + second.address() + "</td>");
  REQUIRE(row != std::string::npos);
  CHECK(after.find("DOWN", row) < after.find("</tr>", row));

  // The screenshot is kept beside the test binary, as the run's artifact.
  const std::string png = std::filesystem::current_path() / "status_page.png";
  rendered_dom(url, png);
  CHECK(std::filesystem::file_size(png) > 10000);
  stop_cleanly(p.proxy);
}
