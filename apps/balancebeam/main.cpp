// balancebeam: the load-balancing HTTP/1.1 reverse proxy on real sockets.
//
// Parses the command line (the original CS110L flags plus --threads and --log-level),
// starts one proxy worker per thread, each with its own io_context and SO_REUSEPORT
// listener, and drains them all on SIGINT or SIGTERM.

#include <bb/asio/runtime.hpp>
#include <bb/proxy.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
// A repeatable flag is repeated, never comma-split: "--upstream host:port,weight=3" is one
// value (and the original balancebeam did not split either).
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int exit_usage = 2;

[[noreturn]] void die(int code, const std::string& msg) {
  std::fprintf(stderr, "balancebeam: %s\n", msg.c_str());
  std::exit(code);
}

// One line, one write(2): lines from several workers never interleave.
void write_log_line(bb::log_level level, std::string_view text) {
  char stamp[32];
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line(stamp, n);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ ", static_cast<int>(ms));
  line += frac;
  line += to_string(level);
  line += ' ';
  line += text;
  line += '\n';
  [[maybe_unused]] auto w = ::write(STDERR_FILENO, line.data(), line.size());
}

// A whole number from `min` to `max`.
std::uint64_t parse_unsigned(const std::string& flag, const std::string& v, std::uint64_t max, std::uint64_t min = 0) {
  std::uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || out < min || out > max)
    die(exit_usage, "invalid value for --" + flag + ": '" + v + "' (expected a whole number " + std::to_string(min) +
                        ".." + std::to_string(max) + ")");
  return out;
}

// Seconds as a decimal ("2", "0.5"), greater than zero and at most a day.
std::chrono::nanoseconds parse_seconds(const std::string& flag, const std::string& v) {
  double secs = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || !(secs > 0) || secs > 86400)
    die(exit_usage, "invalid value for --" + flag + ": '" + v + "' (expected seconds, more than 0)");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(secs * 1e9));
}

// "ip:port" at once; "name:port" through the resolver, once, at start-up.
bb::endpoint parse_address(const std::string& flag, const std::string& v) {
  if (auto ep = bb::endpoint::parse(v)) return *ep;
  const auto colon = v.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : bb::endpoint::parse_port(v.substr(colon + 1));
  if (!port || colon == 0) die(exit_usage, "invalid value for --" + flag + ": '" + v + "' (expected host:port)");
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve(v.substr(0, colon), std::to_string(*port), ec);
  if (ec || results.empty())
    die(exit_usage, "invalid value for --" + flag + ": '" + v + "' (cannot resolve: " + ec.message() + ")");
  for (const auto& r : results)  // prefer IPv4, the family "localhost" users mean
    if (r.endpoint().address().is_v4()) return bb::asio_rt::from_asio(r.endpoint());
  return bb::asio_rt::from_asio(results.begin()->endpoint());
}

// "host:port" or "host:port,weight=N" (N from 1 to 1000).
bb::upstream_config parse_upstream(const std::string& v) {
  const auto comma = v.find(',');
  const std::string address = v.substr(0, comma);
  std::uint32_t weight = 1;
  if (comma != std::string::npos) {
    const std::string option = v.substr(comma + 1);
    constexpr std::string_view key = "weight=";
    const std::string n = option.starts_with(key) ? option.substr(key.size()) : std::string();
    std::uint64_t w = 0;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), w);
    if (n.empty() || ec != std::errc{} || p != n.data() + n.size() || w == 0 || w > 1000)
      die(exit_usage, "invalid value for --upstream: '" + v + "' (expected host:port or host:port,weight=N with N 1..1000)");
    weight = static_cast<std::uint32_t>(w);
  }
  return {address, parse_address("upstream", address), weight};
}

// Every connection is a descriptor (two while it talks to an upstream): takes all the
// open-file limit allows, since a soft limit of 1024 is common where the hard one is far
// higher. The limit then in force.
rlim_t raise_open_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max && r.rlim_max != RLIM_INFINITY) {
    rlimit want = r;
    want.rlim_cur = r.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) r = want;
  }
  return r.rlim_cur;
}

struct worker {
  asio::io_context io{ASIO_CONCURRENCY_HINT_UNSAFE_IO};  // sockets are touched by this worker only
  bb::asio_rt::steady_clock clock{io};
  bb::asio_rt::tcp_transport transport{io};
  std::unique_ptr<bb::proxy<bb::asio_rt::tcp_transport, bb::asio_rt::steady_clock>> proxy;
  std::thread thread;
};

}  // namespace

int main(int argc, char** argv) {
  // I/O buffers (17 KiB) come from mmap, so the ones a quiet worker trims from its pool go
  // back to the system instead of staying in the heap: idle memory follows idle load.
  mallopt(M_MMAP_THRESHOLD, 16 * 1024);
  cxxopts::Options options("balancebeam", "A load-balancing HTTP/1.1 reverse proxy.");
  // clang-format off
  options.add_options()
    ("b,bind", "address to listen on", cxxopts::value<std::string>()->default_value("0.0.0.0:1100"))
    ("u,upstream", "upstream host:port[,weight=N] (repeat for more)", cxxopts::value<std::vector<std::string>>())
    ("balance", "random, round-robin, least-requests, p2c, consistent-hash or peak-ewma",
     cxxopts::value<std::string>()->default_value("random"))
    ("ewma-decay", "peak-ewma: seconds over which its latency average forgets (fractions allowed)",
     cxxopts::value<std::string>()->default_value("10"))
    ("active-health-check-interval", "seconds between active health checks (0 = off)",
     cxxopts::value<std::string>()->default_value("10"))
    ("active-health-check-path", "path requested by active health checks", cxxopts::value<std::string>()->default_value("/"))
    ("health-rise", "consecutive passed checks that bring an upstream up", cxxopts::value<std::string>()->default_value("1"))
    ("health-fall", "consecutive failed checks that take an upstream down", cxxopts::value<std::string>()->default_value("1"))
    ("upstream-connect-timeout", "seconds a connect to an upstream may take (fractions allowed)",
     cxxopts::value<std::string>()->default_value("2"))
    ("upstream-response-timeout", "seconds an upstream may take to send a response head once it has the request "
     "(then 504)", cxxopts::value<std::string>()->default_value("30"))
    ("upstream-idle-timeout", "seconds a pooled keep-alive connection to an upstream may sit idle (then closed)",
     cxxopts::value<std::string>()->default_value("60"))
    ("client-header-timeout", "seconds a client may take to send a request head (then 408)",
     cxxopts::value<std::string>()->default_value("10"))
    ("client-idle-timeout", "seconds a keep-alive connection may wait for its next request (then closed)",
     cxxopts::value<std::string>()->default_value("60"))
    ("body-idle-timeout", "seconds a request or response body may stall, either way, while it streams",
     cxxopts::value<std::string>()->default_value("30"))
    ("max-header-bytes", "bytes a request (or response) head may take (then 431)",
     cxxopts::value<std::string>()->default_value("16384"))
    ("max-headers", "header fields a request (or response) head may carry (then 431)",
     cxxopts::value<std::string>()->default_value("100"))
    ("max-body-bytes", "bytes a request body may take (then 413; 0 = unlimited)",
     cxxopts::value<std::string>()->default_value("104857600"))
    ("max-connections", "client connections the process serves at once (0 = unlimited)",
     cxxopts::value<std::string>()->default_value("10000"))
    ("max-requests-per-minute", "requests per minute per client IP (0 = unlimited)",
     cxxopts::value<std::string>()->default_value("0"))
    ("rate-limit", "fixed-window, sliding-window or gcra", cxxopts::value<std::string>()->default_value("fixed-window"))
    ("rate-limit-burst", "gcra's burst (default: the limit - 1, so the limit is the limit)", cxxopts::value<std::string>())
    ("trusted-proxy", "an IP whose X-Forwarded-For is believed for rate limiting (repeatable)",
     cxxopts::value<std::vector<std::string>>())
    ("threads", "worker threads (default: the number of cores)",
     cxxopts::value<std::string>()->default_value(std::to_string(std::max(1u, std::thread::hardware_concurrency()))))
    ("log-level", "debug, info, warn, error or off", cxxopts::value<std::string>()->default_value("info"))
    ("seed", "seed of the balancing random source (default: drawn at start; set it to replay a run)",
     cxxopts::value<std::string>())
    ("h,help", "print this help");
  // clang-format on

  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    die(exit_usage, e.what());
  }
  if (args.count("help")) {
    std::printf("%s\n", options.help().c_str());
    return 0;
  }
  if (!args.unmatched().empty()) die(exit_usage, "unexpected argument '" + args.unmatched().front() + "'");

  bb::proxy_config config;
  config.bind = parse_address("bind", args["bind"].as<std::string>());
  if (!args.count("upstream")) die(1, "at least one --upstream host:port is required");
  for (const auto& u : args["upstream"].as<std::vector<std::string>>()) config.upstreams.push_back(parse_upstream(u));
  {
    const auto name = args["balance"].as<std::string>();
    const auto policy = bb::parse_balance_policy(name);
    if (!policy)
      die(exit_usage, "invalid value for --balance: '" + name +
                          "' (expected random, round-robin, least-requests, p2c, consistent-hash or peak-ewma)");
    config.balance.policy = *policy;
  }
  config.balance.ewma_decay = parse_seconds("ewma-decay", args["ewma-decay"].as<std::string>());
  config.health.interval = std::chrono::seconds(
      parse_unsigned("active-health-check-interval", args["active-health-check-interval"].as<std::string>(), 86400));
  config.health.path = args["active-health-check-path"].as<std::string>();
  if (!config.health.path.starts_with('/'))
    die(exit_usage, "invalid value for --active-health-check-path: '" + config.health.path +
                        "' (expected a path starting with /)");
  config.health.rise = static_cast<std::uint32_t>(parse_unsigned("health-rise", args["health-rise"].as<std::string>(), 1000));
  config.health.fall = static_cast<std::uint32_t>(parse_unsigned("health-fall", args["health-fall"].as<std::string>(), 1000));
  if (config.health.rise == 0 || config.health.fall == 0)
    die(exit_usage, std::string("invalid value for --") + (config.health.rise ? "health-fall" : "health-rise") +
                        ": '0' (expected at least 1)");
  config.upstream_connect_timeout =
      parse_seconds("upstream-connect-timeout", args["upstream-connect-timeout"].as<std::string>());
  config.upstream_response_timeout =
      parse_seconds("upstream-response-timeout", args["upstream-response-timeout"].as<std::string>());
  config.upstream_idle_timeout = parse_seconds("upstream-idle-timeout", args["upstream-idle-timeout"].as<std::string>());
  config.client_header_timeout = parse_seconds("client-header-timeout", args["client-header-timeout"].as<std::string>());
  config.client_idle_timeout = parse_seconds("client-idle-timeout", args["client-idle-timeout"].as<std::string>());
  config.body_idle_timeout = parse_seconds("body-idle-timeout", args["body-idle-timeout"].as<std::string>());
  config.limits.max_head_bytes = parse_unsigned("max-header-bytes", args["max-header-bytes"].as<std::string>(), 1u << 20, 1024);
  config.limits.max_headers = parse_unsigned("max-headers", args["max-headers"].as<std::string>(), 10000, 1);
  config.limits.max_body_bytes = parse_unsigned("max-body-bytes", args["max-body-bytes"].as<std::string>(), UINT64_MAX);
  if (config.limits.max_body_bytes == 0) config.limits.max_body_bytes = UINT64_MAX;
  config.max_connections = static_cast<std::uint32_t>(
      parse_unsigned("max-connections", args["max-connections"].as<std::string>(), 1u << 24));
  config.rate_limit.limit = static_cast<std::uint32_t>(
      parse_unsigned("max-requests-per-minute", args["max-requests-per-minute"].as<std::string>(), 1u << 30));
  {
    const auto algo = args["rate-limit"].as<std::string>();
    if (algo == "fixed-window") config.rate_limit.algorithm = bb::rate_limit_algorithm::fixed_window;
    else if (algo == "sliding-window") config.rate_limit.algorithm = bb::rate_limit_algorithm::sliding_window;
    else if (algo == "gcra") config.rate_limit.algorithm = bb::rate_limit_algorithm::gcra;
    else die(exit_usage, "invalid value for --rate-limit: '" + algo + "' (expected fixed-window, sliding-window or gcra)");
  }
  if (args.count("rate-limit-burst"))
    config.rate_limit.burst =
        static_cast<std::int64_t>(parse_unsigned("rate-limit-burst", args["rate-limit-burst"].as<std::string>(), 1u << 30));
  if (args.count("trusted-proxy"))
    for (const auto& t : args["trusted-proxy"].as<std::vector<std::string>>()) {
      auto ip = bb::ip_address::parse(t);
      if (!ip) die(exit_usage, "invalid value for --trusted-proxy: '" + t + "' (expected an IP address)");
      config.clients.trusted_proxies.push_back(*ip);
    }
  const auto threads = parse_unsigned("threads", args["threads"].as<std::string>(), 1024);
  if (threads == 0) die(exit_usage, "invalid value for --threads: '0' (expected at least 1)");
  const auto level = bb::parse_log_level(args["log-level"].as<std::string>());
  if (!level) die(exit_usage, "invalid value for --log-level: '" + args["log-level"].as<std::string>() + "'");
  const bb::logger log(*level, write_log_line);
  if (const auto files = raise_open_file_limit(); config.max_connections != 0 && files != 0 &&
                                                  files < rlim_t{config.max_connections} + 256)
    log.log(bb::log_level::warn, (bb::line{} << "the open-file limit (" << files << ") is below --max-connections "
                                             << config.max_connections
                                             << ": accepts will fail before the connection limit is reached")
                                     .s);

  std::random_device seed_source;  // the application, not the library, draws the seeds
  const std::uint64_t seed = args.count("seed")
                                 ? parse_unsigned("seed", args["seed"].as<std::string>(), UINT64_MAX)
                                 : (std::uint64_t{seed_source()} << 32) | seed_source();
  bb::rng seeds(seed);

  // Before any listener exists: a SIGTERM from a supervisor that saw the port open must
  // drain, not kill.
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);

  // Every worker binds with SO_REUSEPORT, which would let a second balancebeam share the
  // port silently; a plain bind first says "in use" instead.
  {
    asio::io_context probe_io;
    asio::ip::tcp::acceptor probe(probe_io);
    std::error_code ec;
    const auto ep = bb::asio_rt::to_asio(config.bind);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec) die(1, "cannot listen on " + config.bind.to_string() + ": " + ec.message());
  }

  bb::shared_state shared(config, seeds());  // health and rate limits, for every worker
  std::vector<std::unique_ptr<worker>> workers;
  for (std::uint64_t i = 0; i < threads; ++i) {
    auto w = std::make_unique<worker>();
    w->proxy = std::make_unique<bb::proxy<bb::asio_rt::tcp_transport, bb::asio_rt::steady_clock>>(
        w->transport, w->clock, seeds.split(), config, log, shared, i == 0);
    if (auto ec = w->proxy->listen()) die(1, "cannot listen on " + config.bind.to_string() + ": " + ec.message());
    workers.push_back(std::move(w));
  }
  log.log(bb::log_level::info, (bb::line{} << "balancebeam listening on " << workers[0]->proxy->local_endpoint().to_string()
                                           << " with " << config.upstreams.size() << " upstream(s), balance "
                                           << bb::to_string(config.balance.policy) << ", " << threads
                                           << " thread(s), seed " << seed)
                                   .s);

  for (auto& w : workers)
    w->thread = std::thread([&w = *w] { bb::asio_rt::run(w.io, w.proxy->run()); });

  signals.async_wait([&](std::error_code ec, int sig) {
    if (ec) return;
    log.log(bb::log_level::info, (bb::line{} << "signal " << sig << ": draining").s);
    for (auto& w : workers) asio::post(w->io, [&w] { w->proxy->drain(); });
  });
  signals_io.run();
  for (auto& w : workers) w->thread.join();
  log.log(bb::log_level::info, "balancebeam stopped");
  return 0;
}
