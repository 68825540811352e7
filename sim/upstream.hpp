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
/// Every response to a request for /r/<id> names it in X-Sim-Answers. A server given a
/// misbehaviour (misbehaviour.hpp) also writes unasked bytes after a seeded fraction of its
/// answers, at a seeded delay, and tells its upstream_log what each write is. It reads the
/// next request only after those bytes went out, so on a connection they always come
/// between one answer and the next. Health checks (any other target) are answered plainly.

#include <algorithm>
#include <bb/core/net.hpp>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <sim/clock.hpp>
#include <sim/http_lite.hpp>
#include <sim/misbehaviour.hpp>
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
  /// Unasked bytes it writes from the start (none by default; see also misbehave()).
  misbehaviour unsolicited{};
};

class upstream_server {
public:
  upstream_server(network& net, host& h, std::uint16_t port, upstream_spec spec, rng random)
      : net_(net),
        host_(h),
        transport_(net, h),
        clock_(net.exec(), h),
        port_(port),
        spec_(std::move(spec)),
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
  /// From now on the process writes unasked bytes as `m` says.
  void misbehave(const misbehaviour& m) noexcept { spec_.unsolicited = m; }
  /// Tells `log` every write from now on (nullptr: nobody); `log` must outlive the server.
  void set_log(upstream_log* log) noexcept { log_ = log; }
  /// The process dies: listener gone, every connection reset; serve() then returns.
  void crash() { net_.crash(host_); }
  /// Lets the host run a process again; the owner spawns a new serve().
  void restart() { net_.restart(host_); }

private:
  task<void> session(stream s) {
    http_lite::reader rd;
    http_lite::message m;
    std::string out, later;  // reused: one answer, and what follows it unasked, at a time
    std::optional<misbehaviour::kind> deed;
    for (;;) {
      // A misbehaving server decides on the head alone: an early answer leaves the body unread.
      deed.reset();
      if (spec_.unsolicited.any() && spec_.kind != behaviour::hang && spec_.kind != behaviour::half_then_close) {
        if (co_await rd.read(s, http_lite::reader::framing{false, false, true}, m)) break;
        deed = draw(m);
        if (deed == misbehaviour::kind::early_answer) {
          co_await answer_early(s, http_lite::parse_target(m.target).first);
          break;
        }
      }
      if (co_await rd.read(s, false, m)) break;
      if (spec_.kind == behaviour::hang) continue;
      if (spec_.kind == behaviour::slow && !co_await serve_slowly()) break;
      const auto target = http_lite::parse_target(m.target);
      const std::uint64_t id = target.first;
      const std::size_t size = target.second;
      out.clear(), later.clear();
      if (spec_.kind == behaviour::always_500) {
        constexpr std::string_view why = "upstream error\n";
        http_lite::append_response_head(out, 500, why.size(), m.close, id);
        if (m.method != "HEAD") out.append(why);
      } else if (m.method == "POST") {
        http_lite::append_response_head(out, 200, m.body.size(), m.close, id);
        out.append(m.body);
      } else if (deed == misbehaviour::kind::late_body) {
        late_body(later, id, size);
        // A HEAD's answer announces the body a GET would get; a GET gets 204, no body at all.
        http_lite::append_response_head(out, m.method == "HEAD" ? 200 : 204, later.size(), m.close, id);
      } else {
        http_lite::append_response_head(out, 200, size, m.close, id);
        if (m.method != "HEAD") http_lite::append_payload(out, id, size);
      }
      if (spec_.kind == behaviour::half_then_close) {
        const auto half = std::string_view(out).substr(0, out.size() / 2);
        if (!co_await http_lite::write_all(s, half)) log(s, half.size(), {piece::what::answer, id, id});
        break;
      }
      if (co_await http_lite::write_all(s, out)) break;
      log(s, out.size(), {piece::what::answer, id, id});
      ++answered_;
      if (m.close) break;
      if (deed && !co_await write_unasked(s, *deed, id, later)) break;
    }
    s.close();
  }

  /// Whether to misbehave on the request whose head is `m`, and how: one of the spec's
  /// kinds that fit it, drawn evenly (none for a health check or a request that closes).
  std::optional<misbehaviour::kind> draw(const http_lite::message& m) {
    using k = misbehaviour::kind;
    const auto& u = spec_.unsolicited;
    if (http_lite::parse_target(m.target).first == 0 || m.close || !random_.chance(u.rate)) return std::nullopt;
    const bool echo = spec_.kind != behaviour::always_500;
    const bool post = m.method == "POST";
    k fit[misbehaviour::kind_count];
    std::size_t n = 0;
    if (u.has(k::late_body) && echo && !post) fit[n++] = k::late_body;
    if (u.has(k::poisoned)) fit[n++] = k::poisoned;
    if (u.has(k::garbage)) fit[n++] = k::garbage;
    if (u.has(k::early_answer) && echo && post) fit[n++] = k::early_answer;
    if (n == 0) return std::nullopt;
    return fit[random_.below(n)];
  }

  /// The body a bodiless answer to request `id` leaves for later: the payload a GET would
  /// get, or (on half of them, and whenever that payload is empty) a resource that reads as
  /// a whole response naming `id`.
  void late_body(std::string& out, std::uint64_t id, std::size_t size) {
    if (size > 0 && random_.chance(0.5)) return http_lite::append_payload(out, id, size);
    http_lite::append_response_head(out, 200, size, false, id);
    http_lite::append_payload(out, id, size);
  }

  /// After a seeded delay, writes the unasked bytes of `deed` that follow the answer to
  /// request `id` (`late`: a late body); false when the connection is gone or the process stops.
  task<bool> write_unasked(stream& s, misbehaviour::kind deed, std::uint64_t id, std::string& late) {
    using k = misbehaviour::kind;
    const auto delay = duration(
        static_cast<std::int64_t>(random_.below(static_cast<std::uint64_t>(spec_.unsolicited.max_delay.count()) + 1)));
    if (co_await clock_.sleep_for(delay)) co_return false;
    piece p{piece::what::garbage, id, 0};
    if (deed == k::late_body) {
      p = {piece::what::late_body, id, late.starts_with("HTTP/") ? id : 0};
    } else if (deed == k::poisoned) {
      late = http_lite::make_response(200, "poisoned", false, id);
      p = {piece::what::poisoned, id, id};
    } else {
      late.resize(1 + random_.below(64));
      for (auto& c : late) c = static_cast<char>(random_() & 0xff);
    }
    if (co_await http_lite::write_all(s, late)) co_return false;
    log(s, late.size(), p);
    co_return true;
  }

  /// Answers the POST `id` 413 on its head alone, as a server that refuses the body would.
  task<void> answer_early(stream& s, std::uint64_t id) {
    constexpr std::string_view why = "request body refused\n";
    std::string out;
    http_lite::append_response_head(out, 413, why.size(), true, id);
    out.append(why);
    if (!co_await http_lite::write_all(s, out)) log(s, out.size(), {piece::what::early_answer, id, id});
  }

  /// Tells the log that `bytes` bytes just went out on `s` as `p`.
  void log(const stream& s, std::size_t bytes, const piece& p) {
    if (log_ && bytes > 0) log_->record(s.id(), bytes, p);
  }

  /// Holds a worker (queueing for one when all are busy) for one service time; false
  /// when cancelled (the process is stopping or crashed).
  task<bool> serve_slowly() {
    if (spec_.workers > 0 && busy_ >= spec_.workers) {
      signal turn(host_);
      queue_.push_back(&turn);
      if (!co_await turn.wait()) {  // cancelled: a worker handed over meanwhile passes on
        if (const auto it = std::find(queue_.begin(), queue_.end(), &turn); it != queue_.end()) queue_.erase(it);
        else release_worker();
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
  upstream_log* log_ = nullptr;
  double factor_ = 1;
  std::size_t busy_ = 0;       // workers serving a request (slow with workers)
  std::deque<signal*> queue_;  // requests waiting for one, first come first served
};

}  // namespace bb::sim
