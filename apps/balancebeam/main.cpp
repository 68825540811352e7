// balancebeam: the load-balancing HTTP/1.1 reverse proxy on real sockets.
//
// Reads the command line through the flag table (flags.hpp), starts one proxy worker per
// thread, each with its own io_context and SO_REUSEPORT listener, and drains them all on
// SIGINT or SIGTERM.

#include <apps/balancebeam/admin_routes.hpp>
#include <apps/balancebeam/asio_resolve.hpp>
#include <apps/balancebeam/flags.hpp>
#include <apps/balancebeam/log_line.hpp>
#include <apps/balancebeam/open_files.hpp>

#include <bb/admin/server.hpp>
#include <bb/asio/runtime.hpp>
#include <bb/limit/redis_limiter.hpp>
#include <bb/proxy.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(int code, const std::string& msg) {
  std::fprintf(stderr, "balancebeam: %s\n", msg.c_str());
  std::exit(code);
}

using transport_type = bb::asio_rt::tcp_transport;
using clock_type = bb::asio_rt::steady_clock;

struct worker {
  asio::io_context io{ASIO_CONCURRENCY_HINT_UNSAFE_IO};  // sockets are touched by this worker only
  clock_type clock{io};
  transport_type transport{io};
  std::unique_ptr<bb::remote_limiter> limiter;  // with a Redis store
  std::unique_ptr<bb::proxy<transport_type, clock_type>> proxy;
  std::thread thread;
};

// A worker's proxy, and beside it its Redis connection for as long as the proxy serves.
bb::task<void> serve(worker& w) {
  bb::scope s;
  if (w.limiter) s.spawn(w.limiter->run());
  co_await w.proxy->run();
  if (w.limiter) w.limiter->stop();
  co_await s.join();
}

}  // namespace

int main(int argc, char** argv) {
  // I/O buffers (17 KiB) come from mmap, so the ones a quiet worker trims from its pool go
  // back to the system instead of staying in the heap: idle memory follows idle load.
  mallopt(M_MMAP_THRESHOLD, 16 * 1024);
  const auto cli = balancebeam::parse_cli({argv + 1, argv + argc}, balancebeam::asio_resolve);
  if (cli.error) die(cli.error->exit_status, cli.error->message);
  if (!cli.request.empty()) {  // --help, or the hidden --help-markdown
    std::fputs((cli.request == "help" ? balancebeam::help_text() : balancebeam::flag_markdown()).c_str(), stdout);
    return 0;
  }
  const bb::proxy_config& config = cli.settings.proxy;
  const unsigned threads = cli.settings.threads.value_or(std::max(1u, std::thread::hardware_concurrency()));

  const bb::logger log(cli.settings.log_level, balancebeam::write_log_line);
  if (const auto files = balancebeam::raise_open_file_limit();
      config.max_connections != 0 && files != 0 && files < rlim_t{config.max_connections} + 256)
    log.log(bb::log_level::warn,
            (bb::line{} << "the open-file limit (" << files << ") is below --max-connections " << config.max_connections
                        << ": accepts will fail before the connection limit is reached")
                .s);

  std::random_device seed_source;  // the application, not the library, draws the seeds
  const std::uint64_t seed =
      cli.settings.seed ? *cli.settings.seed : (std::uint64_t{seed_source()} << 32) | seed_source();
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
  const bool redis_store = config.rate_limit.enabled() && config.rate_limit.redis.enabled();
  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned i = 0; i < threads; ++i) {
    auto w = std::make_unique<worker>();
    if (redis_store) {
      try {
        auto* fallback = shared.limiter ? &*shared.limiter : nullptr;
        const auto label = threads > 1 ? " (worker " + std::to_string(i) + ")" : std::string();
        if (config.rate_limit.redis.url.cluster)
          w->limiter = std::make_unique<
              bb::redis_limiter<transport_type, clock_type, bb::redis::cluster<transport_type, clock_type>>>(
              w->transport, w->clock, seeds.split(), config.rate_limit, log, fallback, label);
        else
          w->limiter = std::make_unique<bb::redis_limiter<transport_type, clock_type>>(
              w->transport, w->clock, seeds.split(), config.rate_limit, log, fallback, label);
      } catch (const std::invalid_argument& e) {
        die(2, std::string("invalid value for --rate-limit-store: ") + e.what());
      }
      shared.attach_remote_limiter(&w->transport, *w->limiter);
    }
    w->proxy = std::make_unique<bb::proxy<transport_type, clock_type>>(w->transport, w->clock, seeds.split(), config,
                                                                       log, shared, i == 0);
    if (auto ec = w->proxy->listen()) die(1, "cannot listen on " + config.bind.to_string() + ": " + ec.message());
    workers.push_back(std::move(w));
  }
  log.log(bb::log_level::info,
          (bb::line{} << "balancebeam listening on " << workers[0]->proxy->local_endpoint().to_string() << " with "
                      << config.upstreams.size() << " upstream(s), balance " << bb::to_string(config.balance.policy)
                      << ", " << threads << " thread(s), seed " << seed
                      << (redis_store ? ", rate limits in " + config.rate_limit.redis.url.masked() : ""))
              .s);

  // The admin listener: a thread and event loop of its own, so a scrape never waits on a busy
  // worker (it reads their counters, which are single-writer atomics).
  asio::io_context admin_io{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  clock_type admin_clock{admin_io};
  transport_type admin_transport{admin_io};
  std::atomic<bool> draining{false};
  using proxy_type = bb::proxy<transport_type, clock_type>;
  std::vector<const proxy_type*> proxies;
  for (auto& w : workers) proxies.push_back(w->proxy.get());
  balancebeam::admin_view<proxy_type> view{
      .workers = std::move(proxies),
      .shared = shared,
      .config = config,
      .draining = draining,
      .version = BB_VERSION,
      .start_time_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(),
      .started = std::chrono::steady_clock::now(),
      .now_ns = [&admin_clock] { return bb::since_epoch(admin_clock.now()).count(); }};
  std::optional<bb::admin::server<transport_type, clock_type>> admin;
  std::thread admin_thread;
  if (cli.settings.admin) {
    admin.emplace(
        admin_transport, admin_clock, [&view](const bb::admin::request& r) { return route(view, r); }, log);
    if (auto ec = admin->listen(*cli.settings.admin))
      die(1, "cannot listen on " + cli.settings.admin->to_string() + " (--admin): " + ec.message());
    log.log(bb::log_level::info, (bb::line{} << "admin listener on " << admin->local_endpoint().to_string()
                                             << ": /metrics /status /status.json /ready /live")
                                     .s);
    admin_thread = std::thread([&] { bb::asio_rt::run(admin_io, admin->run()); });
  }

  for (auto& w : workers) w->thread = std::thread([&w = *w] { bb::asio_rt::run(w.io, serve(w)); });

  signals.async_wait([&](std::error_code ec, int sig) {
    if (ec) return;
    log.log(bb::log_level::info, (bb::line{} << "signal " << sig << ": draining").s);
    draining.store(true, std::memory_order_relaxed);
    for (auto& w : workers) asio::post(w->io, [&w] { w->proxy->drain(); });
  });
  signals_io.run();
  for (auto& w : workers) w->thread.join();
  if (admin) {
    asio::post(admin_io, [&] { admin->stop(); });
    admin_thread.join();
  }
  log.log(bb::log_level::info, "balancebeam stopped");
  return 0;
}
