#pragma once
/// bb::sim::upstream_server: a simulated origin server with a chosen misbehaviour.
///
/// Each incarnation of the server process is one serve() task: it listens, answers on
/// every connection it accepts, and ends when its listener closes (stop(), or a crash
/// that the network carries out), cancelling its connections. A restart is a new serve().
///
/// A `slow` server with `workers` > 0 models a server of limited concurrency: a request
/// waits in one FIFO queue (over all connections) for a free worker, then holds it for
/// its service time, so an overloaded server builds a queue and its latency grows with
/// it. slow_down() multiplies every service time from then on (a host that degrades).
///
/// Every response to a request for /r/<id> names it in X-Sim-Answers; health checks (any
/// other target) get none.

#include <algorithm>
#include <bb/core/net.hpp>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <cstdint>
#include <deque>
#include <sim/clock.hpp>
#include <sim/http_lite.hpp>
#include <sim/network.hpp>
#include <sim/signal.hpp>
#include <sim/transport.hpp>
#include <string>
#include <string_view>

namespace bb::sim {

/// How an upstream answers.
enum class behaviour : std::uint8_t {
  echo,             ///< 200: POST bodies echoed, GET /r/<id>/<n> gets payload(id, n), HEAD its head
  always_500,       ///< 500 to everything
  slow,             ///< echo after an exponentially distributed service time (see workers)
  hang,             ///< accepts and reads, never answers
  half_then_close,  ///< sends half of an echo response, then closes
};

constexpr std::string_view to_string(behaviour b) noexcept {
  constexpr std::string_view names[] = {"echo", "always_500", "slow", "hang", "half_then_close"};
  return names[static_cast<int>(b)];
}

/// What an upstream is and how it behaves.
struct upstream_spec {
  std::string name;
  behaviour kind = behaviour::echo;
  /// `slow`: the mean of the exponentially distributed service time.
  duration slow_mean = std::chrono::milliseconds(20);
  /// `slow`: requests served at once; more wait in FIFO order (0: no limit, no queue).
  std::size_t workers = 0;
  /// The proxy's `weight=` for this upstream.
  std::uint32_t weight = 1;
};

class upstream_server {
 public:
  upstream_server(network& net, host& h, std::uint16_t port, upstream_spec spec, rng random)
      : net_(net), host_(h), transport_(net, h), clock_(net.exec(), h), port_(port), spec_(std::move(spec)),
        random_(random) {}
  upstream_server(const upstream_server&) = delete;
  upstream_server& operator=(const upstream_server&) = delete;

  [[nodiscard]] endpoint address() const noexcept { return {host_.ip, port_}; }
  [[nodiscard]] const upstream_spec& spec() const noexcept { return spec_; }
  [[nodiscard]] host& machine() noexcept { return host_; }
  [[nodiscard]] bool running() const noexcept { return acceptor_ != nullptr; }
  [[nodiscard]] std::uint64_t answered() const noexcept { return answered_; }
  /// Requests waiting for a worker right now (`slow` with workers only).
  [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }

  /// One incarnation of the process: serves until its listener closes or it is cancelled.
  task<void> serve() {
    auto acc = transport_.listen(address());
    if (!acc) co_return;
    acceptor_ = &acc.value();
    scope sessions(co_await get_cancel_token());
    for (;;) {
      auto r = co_await acc->accept();
      if (!r) break;
      sessions.spawn(session(std::move(r->stream)));
    }
    acceptor_ = nullptr;
    sessions.request_stop();
    co_await sessions.join();
  }

  /// Ends the current incarnation in order (its open connections are cancelled).
  void stop() {
    if (acceptor_) acceptor_->close();
  }
  /// From now on the process answers as `b` (an upstream that starts failing, say).
  void behave(behaviour b) noexcept { spec_.kind = b; }
  /// From now on every service time is `factor` times as long as the spec says.
  void slow_down(double factor) noexcept { factor_ = factor; }
  /// The process dies: listener gone, every connection reset; serve() then returns.
  void crash() { net_.crash(host_); }
  /// Lets the host run a process again; the owner spawns a new serve().
  void restart() { net_.restart(host_); }

 private:
  task<void> session(stream s) {
    http_lite::reader rd;
    http_lite::message m;
    std::string out;  // reused: one response at a time
    for (;;) {
      if (co_await rd.read(s, false, m)) break;
      if (spec_.kind == behaviour::hang) continue;
      if (spec_.kind == behaviour::slow && !co_await serve_slowly()) break;
      const auto target = http_lite::parse_target(m.target);
      const std::uint64_t id = target.first;
      const std::size_t size = target.second;
      out.clear();
      if (spec_.kind == behaviour::always_500) {
        constexpr std::string_view why = "upstream error\n";
        http_lite::append_response_head(out, 500, why.size(), m.close, id);
        if (m.method != "HEAD") out.append(why);
      } else if (m.method == "POST") {
        http_lite::append_response_head(out, 200, m.body.size(), m.close, id);
        out.append(m.body);
      } else {
        http_lite::append_response_head(out, 200, size, m.close, id);
        if (m.method != "HEAD") http_lite::append_payload(out, id, size);
      }
      if (spec_.kind == behaviour::half_then_close) {
        co_await http_lite::write_all(s, std::string_view(out).substr(0, out.size() / 2));
        break;
      }
      if (co_await http_lite::write_all(s, out)) break;
      ++answered_;
      if (m.close) break;
    }
    s.close();
  }

  /// Holds a worker (queueing for one when all are busy) for one service time; false
  /// when cancelled (the process is stopping or crashed).
  task<bool> serve_slowly() {
    if (spec_.workers > 0 && busy_ >= spec_.workers) {
      signal turn(host_);
      queue_.push_back(&turn);
      if (!co_await turn.wait()) {  // cancelled: a worker handed over meanwhile passes on
        if (const auto it = std::find(queue_.begin(), queue_.end(), &turn); it != queue_.end())
          queue_.erase(it);
        else
          release_worker();
        co_return false;
      }
      // A worker was handed over by release_worker(): busy_ already counts it.
    } else {
      ++busy_;
    }
    const double mean = static_cast<double>(spec_.slow_mean.count()) * factor_;
    const auto d = duration(static_cast<std::int64_t>(random_.exponential(mean)));
    const bool ok = !co_await clock_.sleep_for(d);
    release_worker();
    co_return ok;
  }

  /// Gives a worker to the first request in the queue, or frees it.
  void release_worker() {
    if (queue_.empty()) {
      --busy_;
      return;
    }
    auto* next = queue_.front();
    queue_.pop_front();
    next->notify();
  }

  network& net_;
  host& host_;
  transport transport_;
  virtual_clock clock_;
  std::uint16_t port_;
  upstream_spec spec_;
  rng random_;
  acceptor* acceptor_ = nullptr;
  std::uint64_t answered_ = 0;
  double factor_ = 1;
  std::size_t busy_ = 0;           // workers serving a request (slow with workers)
  std::deque<signal*> queue_;      // requests waiting for one, first come first served
};

}  // namespace bb::sim
