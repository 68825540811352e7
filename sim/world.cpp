/// bb::sim::world's implementation: the one translation unit that instantiates the proxy,
/// its health checker and every watch over the simulated runtime. The sim program and the
/// simulator tests link it, so that this heavy instantiation is compiled once, not once per
/// test file.

#include <algorithm>
#include <bb/core/log.hpp>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/proxy.hpp>
#include <memory>
#include <optional>
#include <sim/balance_watch.hpp>
#include <sim/check_watch.hpp>
#include <sim/client.hpp>
#include <sim/clock.hpp>
#include <sim/event_decoder.hpp>
#include <sim/events.hpp>
#include <sim/executor.hpp>
#include <sim/failover_watch.hpp>
#include <sim/invariants.hpp>
#include <sim/metrics_watch.hpp>
#include <sim/network.hpp>
#include <sim/rate_client.hpp>
#include <sim/rate_watch.hpp>
#include <sim/scenario.hpp>
#include <sim/swarm_watch.hpp>
#include <sim/tap_bus.hpp>
#include <sim/timeline.hpp>
#include <sim/trace.hpp>
#include <sim/transport.hpp>
#include <sim/unsolicited_watch.hpp>
#include <sim/upstream.hpp>
#include <sim/world.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace bb::sim {

class world::impl {
public:
  using proxy_type = bb::proxy<transport, virtual_clock>;
  using checker_type = bb::health_checker<transport, virtual_clock>;

  explicit impl(scenario sc)
      : sc_(std::move(sc)), root_(after_parameters(sc_.seed)), net_(exec_, trace_, root_()), inv_(exec_, trace_) {
    using namespace std::chrono_literals;
    for (auto o : sc_.allowed) inv_.allow(o);
    inv_.add_issue_tap([this](std::uint64_t id, std::uint32_t client) { events_.request_issued(id, client); });
    inv_.add_outcome_tap([this](const claim& c, duration latency) { events_.request_resolved(c, latency); });
    proxy_host_ = &net_.add_host("proxy", ip_address::v4(10, 0, 0, 1), 50us, 200us);
    rng up_random = root_.split();
    for (std::size_t i = 0; i < sc_.upstreams.size(); ++i) {
      auto& h = net_.add_host(sc_.upstreams[i].name, upstream_ip(i), 50us, 200us);
      upstreams_.push_back(std::make_unique<upstream_server>(net_, h, 8080, sc_.upstreams[i], up_random.split()));
    }
    std::vector<host*> clients;
    for (std::size_t i = 0; i < sc_.client_hosts; ++i)
      clients.push_back(&net_.add_host("client" + std::to_string(i + 1), client_ip(i), 500us, 5ms));
    std::vector<endpoint> entries;
    if (sc_.through_proxy) {
      cfg_.bind = endpoint{proxy_host_->ip, 80};
      for (auto& u : upstreams_) cfg_.upstreams.push_back({u->spec().name, u->address(), u->spec().weight});
      cfg_.balance.policy = sc_.balance;
      cfg_.upstream_response_timeout = 10s;
      cfg_.body_idle_timeout = 10s;
      cfg_.max_connections = 0;  // thundering_herd opens 20,000 at once; the limit is tested apart
      cfg_.health.interval = std::chrono::seconds(sc_.health_interval_s);
      std::vector<endpoint> addresses;
      for (auto& u : upstreams_) addresses.push_back(u->address());
      if (sc_.swarm) configure_swarm();
      if (sc_.rate) {
        configure_rate();
      } else if (sc_.swarm) {
        // the swarm watch needs the cluster: made below, with the shared state
      } else {
        watch_ = std::make_unique<failover_watch>(exec_, inv_, sc_, cfg_);
        log_ = logger(log_level::warn, [w = watch_.get()](log_level, std::string_view l) { w->log_line(l); });
      }
      rng proxy_random = root_.split();
      shared_ = std::make_unique<shared_state>(cfg_, proxy_random());
      for (std::size_t k = 0; k < workers(); ++k) {
        proxy_transports_.push_back(std::make_unique<transport>(net_, *proxy_host_));
        proxy_transports_.back()->set_reuse_port(workers() > 1);
      }
      if (sc_.swarm) swarm_watch_ = std::make_unique<swarm_watch>(exec_, inv_, sc_, shared_->upstreams);
      if (sc_.balancing) {
        std::vector<endpoint> where;
        for (auto& u : upstreams_) where.push_back(u->address());
        balance_watch_ = std::make_unique<balance_watch>(exec_, inv_, sc_, shared_->upstreams, shared_->balance,
                                                         std::move(where), sc_.health_interval_s == 0);
      }
      if ((watch_ || swarm_watch_) && misbehaving()) {
        std::vector<std::string> names;
        std::vector<endpoint> where;
        for (auto& u : upstreams_) names.push_back(u->spec().name), where.push_back(u->address());
        unsolicited_ = std::make_unique<unsolicited_watch>(exec_, inv_, std::move(names), std::move(where));
        for (auto& u : upstreams_) u->set_log(unsolicited_.get());
      }
      std::vector<std::string> names;
      for (auto& u : upstreams_) names.push_back(u->spec().name);
      // First on both transports, the decoder turns their bytes into events: the metrics
      // watch hears them first (it sees what the proxy did before any judge acts on it),
      // then the failover or swarm judge, and the check watch. Then, on the proxy's transport, the
      // judges that still read bytes, and the watches that only add to them.
      decoder_ = std::make_unique<event_decoder>(exec_, shared_->upstreams, addresses, events_);
      metrics_watch_ = std::make_unique<metrics_watch>(inv_, shared_->upstreams, names);
      events_.subscribe(*metrics_watch_);
      if (watch_) events_.subscribe(*watch_);
      if (swarm_watch_) events_.subscribe(*swarm_watch_);
      proxy_bus_.subscribe(decoder_->proxy_tap());
      if (rate_watch_) proxy_bus_.subscribe(*rate_watch_);
      if (balance_watch_) proxy_bus_.subscribe(*balance_watch_);
      if (unsolicited_) proxy_bus_.subscribe(*unsolicited_);
      for (auto& t : proxy_transports_) t->set_tap(&proxy_bus_);
      check_transport_ = std::make_unique<transport>(net_, *proxy_host_);
      if (sc_.swarm && cfg_.health.active()) {
        check_watch_ = std::make_unique<check_watch>(exec_, inv_, names, cfg_.health.interval, cfg_.health.rise);
        events_.subscribe(*check_watch_);
      }
      check_bus_.subscribe(decoder_->check_tap());
      check_transport_->set_tap(&check_bus_);
      // The workers: one proxy each, on the host "proxy", sharing the upstreams' health,
      // the balancer and the limiter as the application's threads do; the executor
      // interleaves their loops. None is the primary worker, so that the checker is the
      // world's (see above); the primary's other duty, reclaiming idle rate-limit entries,
      // frees memory only. Worker 0 draws as the only worker did before workers existed.
      for (std::size_t k = 0; k < workers(); ++k) {
        proxy_clocks_.push_back(std::make_unique<virtual_clock>(exec_, *proxy_host_));
        const rng worker_random = k == 0 ? proxy_random : proxy_random.split();
        proxies_.push_back(std::make_unique<proxy_type>(*proxy_transports_[k], *proxy_clocks_[k], worker_random, cfg_,
                                                        log_, *shared_, false));
      }
      checker_ = std::make_unique<checker_type>(*check_transport_, *proxy_clocks_.front(), root_.split(),
                                                shared_->upstreams, cfg_.health, cfg_.limits, log_);
      entries.push_back(cfg_.bind);
    } else {
      for (auto& u : upstreams_) entries.push_back(u->address());
    }
    if (sc_.rate)
      rate_clients_.emplace(net_, inv_, *rate_watch_, rate_hosts_, sc_.rate->plans, cfg_.bind, root_.split());
    else clients_.emplace(net_, inv_, clients, std::move(entries), sc_.clients, root_.split());
    if (balance_watch_) clients_->record_latencies(&balance_watch_->latencies());
    faults_random_ = root_.split();
    fault_clock_ = std::make_unique<virtual_clock>(exec_, *proxy_host_);
  }

  /// Records the run into `t` (which must outlive it); call before run(). The timeline
  /// only observes: the run, its trace and its report are the same with or without it.
  void attach(timeline& t) {
    std::vector<std::string> names;
    for (auto& u : upstreams_) names.push_back(u->spec().name);
    t.start(std::move(names), shared_ ? &shared_->upstreams : nullptr);
    for (std::size_t i = 0; i < upstreams_.size(); ++i) {  // faults an upstream has from the start
      const auto& spec = upstreams_[i]->spec();
      if (spec.kind == behaviour::always_500) t.fault(duration{0}, i, answering_500, true, "");
      if (spec.kind == behaviour::hang) t.fault(duration{0}, i, hanging, true, "");
      if (spec.kind == behaviour::half_then_close || spec.unsolicited.any())
        t.fault(duration{0}, i, upstream_state::misbehaving, true, "");
    }
    inv_.add_outcome_tap([this, &t](const claim& c, duration latency) { t.outcome(exec_.now(), c, latency); });
    timeline_ = &t;
  }

  void run_until(duration t) {
    if (over_) throw std::logic_error("sim: world::run_until after run()");
    start();
    exec_.run(t);
  }

  void act(const action& a) {
    if (!acting_) throw std::logic_error("sim: world::act outside the load (call run_until first)");
    pending_ = fault{a.what, upstream_index(sc_, a.host), exec_.now(), a.plan, a.amount};
    // Carried out as an event of its own, as the fault driver's are: every observer of
    // events sees it, and what it wakes runs before run_until returns.
    exec_.post(event{[](void* self, std::uint64_t) {
                       auto& w = *static_cast<impl*>(self);
                       if (w.acting_) w.apply(*w.acting_, w.pending_);
                     },
                     this, 0});
    exec_.run(exec_.now());
  }

  [[nodiscard]] duration now() const noexcept { return exec_.now(); }

  [[nodiscard]] bool proxy_holds_up(std::string_view name) const {
    const auto i = upstream_index(sc_, name);
    if (!shared_) throw std::logic_error("sim: the scenario runs without a proxy");
    return shared_->upstreams.health(i).up.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t requests() const noexcept { return inv_.requests(); }
  [[nodiscard]] std::uint64_t answered(outcome o) const noexcept { return inv_.count(o); }

  /// Runs the scenario to its end and checks what must hold afterwards.
  report run() {
    using namespace std::chrono_literals;
    if (over_) throw std::logic_error("sim: world::run called twice");
    start();
    exec_.run(sc_.length + 15min);
    over_ = true;
    const bool finished = main_.done();
    if (finished) {
      main_.promise().take();  // rethrows what the run threw
      main_.destroy();
    }
    // NOTE: otherwise the frame is leaked on purpose: destroying a suspended task would
    // destroy awaiters that the network or a scope may still point to.
    if (!finished) inv_.violate(broken::left_behind, 0, "the run did not wind down (a task is stuck)");
    inv_.check_all_resolved();
    if (balance_watch_) balance_watch_->finish();
    if (finished && swarm_watch_)
      for (std::size_t i = 0; i < upstreams_.size(); ++i)
        if (const auto n = shared_->balance.in_flight(i))
          inv_.violate(broken::in_flight, 0,
                       upstreams_[i]->spec().name + " has " + std::to_string(n) + " requests in flight at the end");
    if (timeline_) timeline_->finish(end_time_.count() ? end_time_ : exec_.now());
    if (finished && decoder_) decoder_->finish();
    if (finished && metrics_watch_) {
      std::vector<const check_stats*> checks;
      for (std::size_t i = 0; i < upstreams_.size(); ++i) checks.push_back(&checker_->stats(i));
      std::vector<const proxy_stats*> stats;
      for (auto& p : proxies_) stats.push_back(&p->stats());
      metrics_watch_->finish(stats, checks);
    }
    if (finished) {
      inv_.expect(net_.open_ends() == 0, "a connection end left open: " + std::to_string(net_.open_ends()));
      inv_.expect(net_.live_connections() == 0, "connections not freed: " + std::to_string(net_.live_connections()));
      inv_.expect(net_.listening() == 0, "a listener left open");
      inv_.expect(exec_.pending_timers() == 0, "timers left: " + std::to_string(exec_.pending_timers()));
    }
    report r;
    r.requests = inv_.requests();
    for (std::size_t i = 0; i < outcome_count; ++i) r.by_outcome[i] = inv_.count(static_cast<outcome>(i));
    r.events = exec_.events_processed();
    r.trace_records = trace_.records();
    r.trace_hash = trace_.hash();
    r.checks = inv_.checks();
    r.violations = inv_.violations();
    r.client_connections = clients_ ? clients_->connections() : rate_clients_->connections();
    r.virtual_time = end_time_;
    r.first_violation = inv_.first();
    r.first_violation_at = inv_.first_time();
    if (watch_) {
      r.figures = watch_->figures();
      r.tallies = watch_->tallies();
    }
    if (swarm_watch_) {
      r.tallies = swarm_watch_->tallies();
      r.checks += swarm_watch_->checks();
      r.tallies.emplace_back("network: writes that waited for the peer's window", net_.writes_waited());
    }
    if (check_watch_) {
      r.tallies.emplace_back("swarm: active checks judged", check_watch_->checks());
      r.checks += check_watch_->checks();
    }
    if (unsolicited_)
      for (auto& t : unsolicited_->tallies()) r.tallies.push_back(std::move(t));
    if (rate_watch_) rate_report(r);
    if (balance_watch_) {
      r.balance = balance_watch_->report();
      for (auto& t : balance_watch_->tallies()) r.tallies.push_back(std::move(t));
    }
    if (proxies_.size() > 1)
      for (std::size_t k = 0; k < proxies_.size(); ++k)
        r.tallies.emplace_back("proxy worker " + std::to_string(k + 1) + ": client connections accepted",
                               proxies_[k]->stats().connections.value());
    if (metrics_watch_) {
      r.tallies.emplace_back("metrics: proxy figures compared with the watch's", metrics_watch_->checks());
      r.checks += metrics_watch_->checks();
    }
    return r;
  }

  [[nodiscard]] trace& tracer() noexcept { return trace_; }
  [[nodiscard]] network& net() noexcept { return net_; }
  [[nodiscard]] const scenario& spec() const noexcept { return sc_; }

private:
  /// The proxy's workers (at least one).
  [[nodiscard]] std::size_t workers() const noexcept { return std::max<std::size_t>(1, sc_.proxy_workers); }

  /// True when some upstream writes unasked bytes, from the start or from a fault on.
  [[nodiscard]] bool misbehaving() const {
    return std::any_of(sc_.upstreams.begin(), sc_.upstreams.end(),
                       [](const upstream_spec& u) { return u.unsolicited.any(); }) ||
           std::any_of(sc_.faults.begin(), sc_.faults.end(),
                       [](const fault& f) { return f.what == fault::kind::misbehave; });
  }

  /// Upstream i's address: 10.0.1.1 to 10.0.1.250 for the first 250, then 10.0.2.1 and on
  /// (63,750 in all; 10.0.0.1 is the proxy's).
  static ip_address upstream_ip(std::size_t i) {
    if (i >= 255 * 250) throw std::invalid_argument("sim: at most 63,750 upstreams");
    return ip_address::v4(10, 0, static_cast<std::uint8_t>(1 + i / 250), static_cast<std::uint8_t>(i % 250 + 1));
  }
  /// Client host i's address: 10.1.0.1 to 10.1.255.250 for the first 64,000, then 10.3.0.1
  /// and on, 64,000 per second octet up to 10.255 (10.2 is the rate scenarios' clients'): 16,256,000 in all.
  static ip_address client_ip(std::size_t i) {
    constexpr std::size_t per_block = 256 * 250;
    const std::size_t block = i / per_block, j = i % per_block;
    if (block > 253) throw std::invalid_argument("sim: at most 16,256,000 client hosts");
    return ip_address::v4(10, static_cast<std::uint8_t>(block == 0 ? 1 : block + 2), static_cast<std::uint8_t>(j / 250),
                          static_cast<std::uint8_t>(j % 250 + 1));
  }

  /// The seed's generator past the draw that make_scenario split off for the parameters.
  static rng after_parameters(std::uint64_t seed) {
    rng r(seed);
    r();
    return r;
  }

  /// Posts the run's main task (once).
  void start() {
    if (main_) return;
    main_ = main_task().release();
    exec_.post(main_);
  }

  task<void> main_task() {
    scope s(co_await get_cancel_token());
    acting_ = &s;
    for (auto& u : upstreams_) s.spawn(u->serve());
    for (auto& p : proxies_) {
      if (auto ec = p->listen()) throw std::runtime_error("sim: the proxy cannot listen: " + ec.message());
      s.spawn(p->run());
    }
    if (checker_) { s.spawn(checker_->run(), health_stop_.token()); }
    {
      scope faults(s.token());
      faults.spawn(fault_driver(s));
      if (clients_) co_await clients_->run(sc_.length);
      else co_await rate_clients_->run(sc_.length);
      if (watch_) watch_->load_over();
      acting_ = nullptr;
      trace_.add(exec_.now(), ev::phase, 0, 0, 0, 1);  // load over, every request resolved
      faults.request_stop();
      co_await faults.join();
    }
    for (auto& p : proxies_) p->drain();
    health_stop_.request_stop();
    for (auto& u : upstreams_) u->stop();
    co_await s.join();
    end_time_ = exec_.now();
    trace_.add(exec_.now(), ev::phase, 0, 0, 0, 2);  // everything joined
  }

  /// Carries out the scenario's faults until the load is over (then it is cancelled).
  task<void> fault_driver(scope& owner) {
    for (const auto& f : sc_.faults) {
      if (co_await fault_clock_->sleep_until(virtual_clock::time_point(f.at))) co_return;
      apply(owner, f);
    }
    if (swarm_watch_) {
      const auto due = sc_.swarm->heal_at + sc_.swarm->liveness_bound;
      if (co_await fault_clock_->sleep_until(virtual_clock::time_point(due))) co_return;
      swarm_watch_->liveness_due();
    }
    if (sc_.flap_target) {
      auto draw = [&](duration mean) {
        return duration(static_cast<std::int64_t>(faults_random_.exponential(static_cast<double>(mean.count()))));
      };
      for (;;) {
        if (co_await fault_clock_->sleep_for(draw(sc_.flap_up_mean))) co_return;
        apply(owner, {fault::kind::crash, *sc_.flap_target, {}});
        const bool stop = static_cast<bool>(co_await fault_clock_->sleep_for(draw(sc_.flap_down_mean)));
        apply(owner, {fault::kind::restart, *sc_.flap_target, {}});
        if (stop) co_return;
      }
    }
  }

  void apply(scope& owner, const fault& f) {
    const auto target = f.target;
    auto& u = *upstreams_[target];
    if (swarm_watch_) swarm_watch_->fault(f.what, target);
    if (timeline_) mark(f.what, target);
    switch (f.what) {
      case fault::kind::crash:
        if (watch_) watch_->crashing(target, u.machine());
        u.crash();
        break;
      case fault::kind::restart:
        if (!u.machine().crashed) break;  // a second restart of one crash (swarm runs draw them)
        u.restart();
        owner.spawn(u.serve());
        if (watch_) watch_->restarted(target);
        break;
      case fault::kind::answer_500:
        u.behave(behaviour::always_500);
        if (watch_) watch_->answering_500(target);
        break;
      case fault::kind::slow_down: u.slow_down(sc_.balancing ? sc_.balancing->slowdown : 10); break;
      case fault::kind::misbehave: u.misbehave(f.plan); break;
      case fault::kind::hang: u.behave(behaviour::hang); break;
      case fault::kind::half_then_close: u.behave(behaviour::half_then_close); break;
      case fault::kind::partition: net_.partition({proxy_host_}, {&u.machine()}); break;
      case fault::kind::pause:
        if (!u.machine().crashed) net_.pause(u.machine());
        break;
      case fault::kind::throttle: net_.set_bandwidth(u.machine(), *proxy_host_, f.amount); break;
      case fault::kind::heal: heal(owner, target); break;
    }
  }

  /// Ends every fault on upstream `i`: it runs again as it was specified, reachable at full speed.
  void heal(scope& owner, std::size_t i) {
    auto& u = *upstreams_[i];
    auto& h = u.machine();
    net_.heal({proxy_host_}, {&h});
    net_.set_bandwidth(h, *proxy_host_, 0);
    if (h.paused) net_.resume(h);
    u.behave(sc_.upstreams[i].kind);
    u.slow_down(1);
    u.misbehave(sc_.upstreams[i].unsolicited);
    if (h.crashed) {
      u.restart();
      owner.spawn(u.serve());
    }
  }

  /// The proxy settings a swarm run drew.
  void configure_swarm() {
    const auto& w = *sc_.swarm;
    cfg_.health.rise = w.rise;
    cfg_.health.fall = w.fall;
    cfg_.health.timeout = w.check_timeout;
    cfg_.health.passive_backoff = w.passive_backoff;
    cfg_.health.passive_backoff_max = w.passive_backoff_max;
    cfg_.upstream_connect_timeout = w.connect_timeout;
    cfg_.upstream_response_timeout = w.response_timeout;
    cfg_.upstream_pool_size = w.pool_size;
    cfg_.rate_limit.limit = w.rate_limit;
    cfg_.rate_limit.algorithm = w.algorithm;
    cfg_.rate_limit.window = w.rate_window;
  }

  /// Puts fault `what` on `target` into the timeline, as a state and a marker.
  void mark(fault::kind what, std::size_t target) {
    const auto now = exec_.now();
    const std::string name(to_string(what));
    switch (what) {
      case fault::kind::crash: timeline_->fault(now, target, crashed, true, name); break;
      case fault::kind::restart: timeline_->fault(now, target, crashed, false, name); break;
      case fault::kind::answer_500: timeline_->fault(now, target, answering_500, true, name); break;
      case fault::kind::slow_down: timeline_->fault(now, target, slow, true, name); break;
      case fault::kind::misbehave: timeline_->fault(now, target, upstream_state::misbehaving, true, name); break;
      case fault::kind::hang: timeline_->fault(now, target, hanging, true, name); break;
      case fault::kind::half_then_close: timeline_->fault(now, target, upstream_state::misbehaving, true, name); break;
      case fault::kind::partition: timeline_->fault(now, target, partitioned, true, name); break;
      case fault::kind::pause: timeline_->fault(now, target, hanging, true, name); break;
      case fault::kind::throttle: timeline_->fault(now, target, slow, true, name); break;
      case fault::kind::heal:
        for (const auto st : fault_states) timeline_->fault(now, target, st, false, {});
        timeline_->fault(now, target, crashed, false, name);
        break;
    }
  }

  /// The limit the scenario names, its client hosts (one address each) and its watch.
  void configure_rate() {
    using namespace std::chrono_literals;
    const auto& q = sc_.rate->params;
    cfg_.rate_limit.limit = q.n;
    cfg_.rate_limit.algorithm = q.algorithm;
    cfg_.rate_limit.window = q.window;
    cfg_.rate_limit.burst = sc_.rate->default_burst ? -1 : std::int64_t{q.burst};
    std::vector<ip_address> ips;
    for (std::size_t i = 0; i < sc_.rate->plans.size(); ++i) {
      const auto ip = ip_address::v4(10, 2, static_cast<std::uint8_t>(i / 250), static_cast<std::uint8_t>(i % 250 + 1));
      rate_hosts_.push_back(&net_.add_host("rc" + std::to_string(i + 1), ip, 500us, 5ms));
      ips.push_back(ip);
    }
    rate_watch_ = std::make_unique<rate_watch>(exec_, inv_, q, cfg_.bind, std::move(ips));
  }

  /// The rate figures: the watch's counts, the CS110L client's, the herd's latency p99.
  void rate_report(report& r) {
    r.tallies = rate_watch_->tallies();
    r.checks += rate_watch_->checks();
    const auto clients = rate_clients_->tallies();
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (clients[i].what != rate_plan::kind::cs110l) continue;
      const auto n = sc_.rate->params.n, sent = n + 3;
      r.tallies.emplace_back("cs110l: " + std::to_string(sent) + " quick requests, 200s", clients[i].ok);
      r.tallies.emplace_back("cs110l: 429s", clients[i].refused);
      r.tallies.emplace_back("cs110l: reached an upstream", rate_watch_->upstream_count(i));
      inv_.expect(clients[i].ok == n && clients[i].refused == 3 && rate_watch_->upstream_count(i) == n,
                  "the CS110L client did not get N 200s and 3 429s with N reaching upstreams");
    }
    auto& lat = rate_clients_->well_behaved_latencies();
    if (!lat.empty()) {
      std::sort(lat.begin(), lat.end());
      const auto p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
      r.figures.push_back({"herd: well-behaved clients' latency p99", p99, lat.size(), sc_.rate->p99_bound});
      r.figures.push_back({"herd: well-behaved clients' latency max", lat.back(), lat.size(), {}});
      inv_.expect(p99 <= sc_.rate->p99_bound, "the well-behaved clients' latency p99 is over its bound");
    }
    r.violations = inv_.violations();
    r.first_violation = inv_.first();
    r.first_violation_at = inv_.first_time();
  }

  scenario sc_;
  rng root_;
  executor exec_;
  trace trace_;
  network net_;
  invariants inv_;
  host* proxy_host_ = nullptr;
  std::vector<std::unique_ptr<upstream_server>> upstreams_;
  std::optional<client_fleet> clients_;
  proxy_config cfg_;
  logger log_;
  std::unique_ptr<failover_watch> watch_;
  std::unique_ptr<balance_watch> balance_watch_;
  std::unique_ptr<unsolicited_watch> unsolicited_;
  event_bus events_;                        // structured events: the decoder's, to the watches below
  std::unique_ptr<event_decoder> decoder_;  // declared before the watches and the proxies: outlives both
  std::unique_ptr<swarm_watch> swarm_watch_;
  std::unique_ptr<check_watch> check_watch_;
  std::unique_ptr<metrics_watch> metrics_watch_;
  std::vector<host*> rate_hosts_;
  std::unique_ptr<rate_watch> rate_watch_;
  std::optional<rate_fleet> rate_clients_;
  std::unique_ptr<shared_state> shared_;
  tap_bus proxy_bus_, check_bus_;                             // the watches on the proxy's and the checker's transports
  std::vector<std::unique_ptr<transport>> proxy_transports_;  // one per worker
  std::unique_ptr<transport> check_transport_;
  std::vector<std::unique_ptr<virtual_clock>> proxy_clocks_;
  std::vector<std::unique_ptr<proxy_type>> proxies_;
  std::unique_ptr<checker_type> checker_;
  cancel_source health_stop_;
  rng faults_random_;
  std::unique_ptr<virtual_clock> fault_clock_;
  duration end_time_{0};
  timeline* timeline_ = nullptr;
  task<void>::handle_type main_;  // the run's main task, once started
  bool over_ = false;             // run() was called
  scope* acting_ = nullptr;       // while the load is on: the scope restarted upstreams serve in
  fault pending_{};               // the fault act() is carrying out
};

world::world(scenario sc) : impl_(std::make_unique<impl>(std::move(sc))) {}
world::~world() = default;
void world::attach(timeline& t) { impl_->attach(t); }
report world::run() { return impl_->run(); }
void world::run_until(duration t) { impl_->run_until(t); }
void world::act(const action& a) { impl_->act(a); }
duration world::now() const noexcept { return impl_->now(); }
bool world::proxy_holds_up(std::string_view name) const { return impl_->proxy_holds_up(name); }
std::uint64_t world::requests() const noexcept { return impl_->requests(); }
std::uint64_t world::answered(outcome o) const noexcept { return impl_->answered(o); }
trace& world::tracer() noexcept { return impl_->tracer(); }
network& world::net() noexcept { return impl_->net(); }
const scenario& world::spec() const noexcept { return impl_->spec(); }

}  // namespace bb::sim
