#pragma once
/// bb::health_checker: active HTTP health checks of every upstream, on an interval.
///
/// Each round, every host (dead ones too) gets `GET <path>` with `Host: <name>` at the
/// round's start plus a jitter drawn from the injected random source, so checks do not
/// all land at once and the simulator replays them. 200 within the timeout is a success;
/// anything else a failure. The rise/fall thresholds decide state changes, which go to
/// the shared cluster and the log. The first round runs one interval after start.

#include <bb/core/clock.hpp>
#include <bb/core/error.hpp>
#include <bb/core/log.hpp>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <bb/core/transport.hpp>
#include <bb/health/check_result.hpp>
#include <bb/health/config.hpp>
#include <bb/health/threshold.hpp>
#include <bb/http/response_parser.hpp>
#include <bb/metrics/counter.hpp>
#include <bb/metrics/histogram.hpp>
#include <bb/upstream/cluster.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bb {

/// What the active checker counts about one host (single-writer: the checker's thread).
struct check_stats {
  metrics::counter passed;      ///< checks answered 200 in time
  metrics::counter failed;      ///< checks that failed, whatever the step
  metrics::histogram duration;  ///< from a check's start to its verdict (the timeout at most)
  /// The last verdict: when it came (the proxy clock's time since its epoch; -1: none yet),
  /// how long the check took, whether it passed. Each field is current; together they may
  /// straddle two checks for a moment.
  std::atomic<std::int64_t> last_at_ns{-1};
  std::atomic<std::int64_t> last_duration_ns{0};
  std::atomic<bool> last_passed{false};
  /// When the checker last changed the host's state (-1: never).
  std::atomic<std::int64_t> changed_at_ns{-1};
};

/// Runs the active checks of one cluster until its task is cancelled.
template <transport Transport, clock Clock>
class health_checker {
public:
  /// Checks `hosts` over `t` as `cfg` says, parsing answers within `limits`; `cfg` and
  /// `log` must outlive it.
  health_checker(Transport& t, Clock& c, rng r, cluster& hosts, const health_config& cfg, http::limits limits,
                 const logger& log)
      : transport_(t),
        clock_(c),
        random_(r),
        hosts_(hosts),
        cfg_(cfg),
        limits_(limits),
        log_(log),
        thresholds_(hosts.size(), health_threshold(cfg.rise, cfg.fall)),
        generations_(hosts.size(), 0),
        stats_(std::make_unique<check_stats[]>(hosts.size())) {}

  /// The interval between rounds (0: checks are off).
  [[nodiscard]] std::chrono::nanoseconds interval() const noexcept { return cfg_.interval; }
  /// How long one check may take: the configured timeout, or the smaller of the interval and 2 s.
  [[nodiscard]] std::chrono::nanoseconds timeout() const noexcept {
    if (cfg_.timeout.count() > 0) return cfg_.timeout;
    return std::min<std::chrono::nanoseconds>(interval(), std::chrono::seconds(2));
  }

  /// What the checks of host `i` came to so far; any thread may read it.
  [[nodiscard]] const check_stats& stats(std::size_t i) const noexcept { return stats_[i]; }

  /// Checks every interval until cancelled.
  task<void> run() {
    if (interval().count() == 0) co_return;
    // Jitter up to a tenth of the interval, at most one second.
    const auto spread = std::min<std::chrono::nanoseconds>(interval() / 10, std::chrono::seconds(1));
    auto round = clock_.now() + interval();
    const auto token = co_await get_cancel_token();
    while (!token.stop_requested()) {
      {
        scope s(token);
        for (std::size_t i = 0; i < hosts_.size(); ++i) {
          const auto jitter = std::chrono::nanoseconds(spread.count() > 0 ? random_.below(spread.count()) : 0);
          s.spawn(check_at(i, round + jitter));
        }
        co_await s.join();
      }
      round += interval();
    }
  }

private:
  task<void> check_at(std::size_t i, typename Clock::time_point at) {
    if (co_await clock_.sleep_until(at)) co_return;  // cancelled: the proxy is stopping
    const auto started = clock_.now();
    const auto verdict = co_await with_timeout(clock_, timeout(), probe(i));
    const auto token = co_await get_cancel_token();
    if (token.stop_requested()) co_return;
    const auto result = verdict ? *verdict : check_result{check_step::none, errc::timed_out, 0};
    auto& st = stats_[i];
    (result.passed() ? st.passed : st.failed).add();
    const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now() - started);
    st.duration.record(took);
    st.last_duration_ns.store(took.count(), std::memory_order_relaxed);
    st.last_passed.store(result.passed(), std::memory_order_relaxed);
    st.last_at_ns.store(since_epoch(clock_.now()).count(), std::memory_order_relaxed);
    record(i, result);
  }

  /// One check of host `i`.
  task<check_result> probe(std::size_t i) {
    const auto& host = hosts_.at(i);
    auto conn = co_await transport_.connect(host.address);
    if (!conn) co_return check_result{check_step::connect, conn.error(), 0};
    auto& s = conn.value();
    std::string req = "GET " + cfg_.path + " HTTP/1.1\r\nHost: " + host.name +
                      "\r\nUser-Agent: balancebeam-health-check\r\nConnection: close\r\n\r\n";
    const_buffer out[] = {{req.data(), req.size()}};
    if (auto w = co_await s.write(out); w.ec) {
      s.close();
      co_return check_result{check_step::send, w.ec, 0};
    }
    std::string buf;
    http::response_parser parser(limits_);
    http::response_head head;
    std::array<char, 4096> chunk;
    for (;;) {
      auto [ec, n] = co_await s.read_some(chunk);
      if (ec) {
        s.close();
        co_return check_result{check_step::receive, ec, 0};
      }
      buf.append(chunk.data(), n);
      auto r = parser.feed(buf, head, false);
      if (r.st == http::parse_state::need_more) continue;
      s.close();
      if (r.st == http::parse_state::failed) co_return check_result{check_step::response, r.ec, 0};
      if (head.status != 200) co_return check_result{check_step::response, check_errc::bad_status, head.status};
      co_return check_result{};
    }
  }

  void record(std::size_t i, const check_result& result) {
    auto& h = hosts_.health(i);
    const auto gen = h.generation.load(std::memory_order_relaxed);
    if (gen != generations_[i]) {  // a passive ejection since the last check: count anew
      generations_[i] = gen;
      thresholds_[i].reset();
    }
    const auto change = thresholds_[i].observe(result.passed(), h.up.load(std::memory_order_relaxed));
    if (!change || !hosts_.set_up(i, *change)) return;
    stats_[i].changed_at_ns.store(since_epoch(clock_.now()).count(), std::memory_order_relaxed);
    log_.log(*change ? log_level::info : log_level::warn,
             (line{} << "upstream " << hosts_.at(i).name << " is " << (*change ? "up" : "down") << ": active check "
                     << result.describe())
                 .s);
  }

  Transport& transport_;
  Clock& clock_;
  rng random_;
  cluster& hosts_;
  const health_config& cfg_;
  http::limits limits_;
  const logger& log_;
  std::vector<health_threshold> thresholds_;
  std::vector<std::uint32_t> generations_;
  std::unique_ptr<check_stats[]> stats_;
};

}  // namespace bb
