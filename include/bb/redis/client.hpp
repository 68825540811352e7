#pragma once
/// bb::redis::client: one pipelined RESP2 connection to one Redis server, over any
/// transport and clock, kept up by reconnecting with backoff behind a circuit breaker.
///
/// A call appends its command to the connection's output and waits on a bb::redis::waiter
/// in the caller's frame; the writer sends whatever has accumulated (so calls made while a
/// write is under way go out together), and the reader hands each reply to the oldest call
/// in the pipeline. No call waits for another's round trip. Every call has a deadline: the
/// timer resumes it with errc::timed_out then, whether or not the server ever answers.
/// While the connection is down, or its oldest call has already timed out (the server is
/// stalled), or too many calls are in flight, a call fails at once rather than wait.
///
/// One client per worker thread, single-threaded like the worker: no locks. Every state
/// change is one log line with its reason: connected, connection lost, cannot connect,
/// breaker open, breaker closed (failed retries in between log at debug).

#include <bb/core/cancel.hpp>
#include <bb/core/clock.hpp>
#include <bb/core/error.hpp>
#include <bb/core/log.hpp>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <bb/core/transport.hpp>
#include <bb/core/with_cancel.hpp>
#include <bb/redis/breaker.hpp>
#include <bb/redis/command.hpp>
#include <bb/redis/config.hpp>
#include <bb/redis/error.hpp>
#include <bb/redis/pipeline.hpp>
#include <bb/redis/reader.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bb::redis {

/// What a client has done since it started.
struct client_counters {
  std::uint64_t calls = 0;         ///< calls sent
  std::uint64_t replies = 0;       ///< replies received (including those nobody waited for any more)
  std::uint64_t timeouts = 0;      ///< calls whose deadline passed before their reply
  std::uint64_t refused = 0;       ///< calls failed at once: not connected, stalled or overloaded
  std::uint64_t connects = 0;      ///< connections that completed the handshake
  std::uint64_t failures = 0;      ///< connection attempts that failed, and connections lost
  std::size_t most_in_flight = 0;  ///< the most calls ever in flight at once (pipelining)
};

/// A pipelined connection to one server, re-established whenever it fails.
template <transport Transport, clock Clock>
class client {
public:
  using stream_type = typename Transport::stream;
  using time_point = typename Clock::time_point;

  /// A client of `config.server` over `t` and `c`; `random` jitters its backoff. It does
  /// nothing until run().
  client(Transport& t, Clock& c, rng random, client_config config, const logger& log)
      : transport_(t), clock_(c), random_(random), config_(std::move(config)), log_(log), breaker_(config_.breaker) {}
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Connects and keeps connected, and enforces every call's deadline, until stop(). The
  /// owner awaits it (structured concurrency: nothing of the client outlives it).
  task<void> run() {
    scope s;
    s.spawn(timer_loop(), stop_.token());
    s.spawn(manage(), stop_.token());
    co_await s.join();
  }

  /// Ends run(): stops reconnecting, closes the connection and fails every call in flight.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_.request_stop();
    lose({});
    if (auto h = std::exchange(timer_h_, {})) h.resume();
  }

  /// True when a call sent now goes out at once on a working connection.
  [[nodiscard]] bool ready() const noexcept {
    return state_ == state::ready && !pipe_.stalled() && pipe_.size() < config_.max_in_flight;
  }

  /// Sends a command whose RESP2 bytes `encode(std::string&)` appends; `w` completes with
  /// the reply, with errc::timed_out at `deadline`, or with errc::connection_lost. When
  /// the client is not ready(), `w` completes at once with the reason (not_connected,
  /// timed_out while the server is stalled, or overloaded).
  template <class Encode>
  void send(Encode&& encode, waiter& w, time_point deadline) {
    if (state_ != state::ready) return refuse(w, errc::not_connected);
    if (pipe_.stalled()) return refuse(w, errc::timed_out);
    if (pipe_.size() >= config_.max_in_flight) return refuse(w, errc::overloaded);
    push(std::forward<Encode>(encode), w, deadline);
  }

  /// The SHA1 that SCRIPT LOAD gave for config().scripts[i] on the current connection
  /// (every server gives the same for the same text).
  [[nodiscard]] const std::string& script_sha(std::size_t i) const { return shas_.at(i); }
  /// The settings.
  [[nodiscard]] const client_config& config() const noexcept { return config_; }
  /// What the client has done since it started.
  [[nodiscard]] const client_counters& counters() const noexcept { return counters_; }
  /// Calls in flight (including those whose caller stopped waiting).
  [[nodiscard]] std::size_t in_flight() const noexcept { return pipe_.size(); }

private:
  enum class state : std::uint8_t { connecting, handshake, ready, down };

  /// Suspends a loop until another part of the client resumes it through `slot`.
  struct park {
    std::coroutine_handle<>* slot;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { *slot = h; }
    void await_resume() const noexcept {}
  };

  void refuse(waiter& w, errc why) {
    ++counters_.refused;
    w.complete(make_error_code(why));
  }

  template <class Encode>
  void push(Encode&& encode, waiter& w, time_point deadline) {
    encode(out_);
    pipe_.push(deadline, w);
    ++counters_.calls;
    counters_.most_in_flight = std::max(counters_.most_in_flight, pipe_.size());
    if (auto h = std::exchange(writer_h_, {})) h.resume();
    wake_timer(deadline);
  }

  /// Makes the timer look again when `deadline` is earlier than what it waits for.
  void wake_timer(time_point deadline) {
    if (auto h = std::exchange(timer_h_, {})) return h.resume();
    // NOTE: a cancelled sleep resumes from the clock's loop, never inline (bb/core/clock.hpp).
    if (timer_cut_ && deadline < timer_until_) timer_cut_->request_stop();
  }

  task<std::error_code> sleep_until(time_point tp) { co_return co_await clock_.sleep_until(tp); }

  /// Resumes every call whose deadline passed, and drops a connection whose oldest call
  /// has gone unanswered for stall_limit past its deadline.
  task<void> timer_loop() {
    while (!stopping_) {
      std::optional<time_point> wake = pipe_.next_deadline();
      if (pipe_.stalled()) {
        const auto give_up = pipe_.stalled_since() + config_.stall_limit;
        if (!wake || give_up < *wake) wake = give_up;
      }
      if (!wake) {
        co_await park{&timer_h_};
        continue;
      }
      cancel_source cut;
      timer_cut_ = &cut;
      timer_until_ = *wake;
      co_await with_cancel(sleep_until(*wake), cut);
      timer_cut_ = nullptr;
      if (stopping_) break;
      const auto now = clock_.now();
      for (waiter* w : pipe_.expire(now)) {
        ++counters_.timeouts;
        w->complete(make_error_code(errc::timed_out));
      }
      if (pipe_.stalled() && now >= pipe_.stalled_since() + config_.stall_limit)
        lose(
            "no reply for " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - pipe_.stalled_since()).count()) +
            " ms past a call's deadline");
    }
  }

  task<result<stream_type>> connect() { co_return co_await transport_.connect(config_.server); }

  /// Connects, handshakes, serves until the connection fails, and tries again after the
  /// backoff or, with the breaker open, after its pause.
  task<void> manage() {
    while (!stopping_) {
      if (breaker_.failures() > 0) {
        co_await sleep_until(time_point{} + breaker_.retry_at());
        if (stopping_) break;
      }
      state_ = state::connecting;
      auto c = co_await with_timeout(clock_, config_.connect_timeout, connect());
      if (stopping_) break;
      if (!c || !*c) {
        failed(!c ? "connect timed out" : "connect: " + c->error().message());
        continue;
      }
      stream_.emplace(std::move(**c));
      reader_.emplace();
      out_.clear();
      alive_ = true;
      loss_reason_.clear();
      state_ = state::handshake;
      scope conn;
      conn.spawn(read_loop());
      conn.spawn(write_loop());
      const auto why = co_await handshake();
      if (!why.empty()) lose(why);
      else if (alive_) connected();
      co_await conn.join();
      stream_.reset();
      if (stopping_) break;
      failed(loss_reason_);
    }
    state_ = state::down;
  }

  /// AUTH, SELECT and SCRIPT LOAD, pipelined; empty when all succeeded, else why not.
  task<std::string> handshake() {
    const auto deadline = clock_.now() + config_.connect_timeout;
    std::deque<waiter> w;
    const auto& password = config_.password.reveal();
    if (!password.empty())
      push([&](std::string& out) { append_command(out, {"AUTH", password}); }, w.emplace_back(), deadline);
    if (config_.db != 0)
      push(
          [&](std::string& out) {
            append_command(out, {"SELECT", std::to_string(config_.db)});
          },
          w.emplace_back(), deadline);
    for (const auto& s : config_.scripts)
      push([&](std::string& out) { append_command(out, {"SCRIPT", "LOAD", s}); }, w.emplace_back(), deadline);
    std::vector<std::string> shas;
    std::string why;
    std::size_t i = 0;
    auto step = [&](std::string_view what, const result<reply>& r) {
      if (!why.empty()) return;
      if (!r) why = std::string(what) + ": " + r.error().message();
      else if (r->type == reply::kind::error) why = std::string(what) + " refused: " + r->str;
    };
    if (!password.empty()) step("AUTH", co_await w[i++]);
    if (config_.db != 0) step("SELECT", co_await w[i++]);
    for (std::size_t k = 0; k < config_.scripts.size(); ++k) {
      auto r = co_await w[i++];
      step("SCRIPT LOAD", r);
      if (why.empty()) shas.push_back(r->str);
    }
    if (why.empty()) shas_ = std::move(shas);
    co_return why;
  }

  task<void> read_loop() {
    std::array<char, 16384> buf;
    for (;;) {
      auto [ec, n] = co_await stream_->read_some(buf);
      if (ec) {
        lose(ec == make_error_code(bb::errc::eof) ? std::string("closed by the server") : "read: " + ec.message());
        co_return;
      }
      if (reader_->feed({buf.data(), n})) {
        lose("protocol error");
        co_return;
      }
      while (alive_) {
        auto r = reader_->next();
        if (!r) break;
        if (!*r) {
          lose("protocol error: " + std::string(reader_->error_text()));
          co_return;
        }
        auto w = pipe_.pop();
        if (!w) {
          lose("a reply nobody asked for");
          co_return;
        }
        ++counters_.replies;
        if (*w) (*w)->complete(std::move(**r));  // may run the caller on: check alive_ again
      }
      if (!alive_) co_return;
    }
  }

  task<void> write_loop() {
    std::string sending;
    while (alive_) {
      if (out_.empty()) {
        co_await park{&writer_h_};
        continue;
      }
      std::swap(out_, sending);
      const const_buffer b[] = {{sending.data(), sending.size()}};
      auto [ec, n] = co_await stream_->write(b);
      sending.clear();
      if (ec) {
        lose("write: " + ec.message());
        co_return;
      }
    }
  }

  /// Ends the current connection (once): closes it, fails the calls in flight, and lets the
  /// reader and writer finish. `why` is what the log will say.
  void lose(std::string why) {
    if (!alive_) return;
    alive_ = false;
    loss_reason_ = std::move(why);
    state_ = state::down;
    stream_->close();
    out_.clear();
    for (waiter* w : pipe_.clear()) w->complete(make_error_code(errc::connection_lost));
    if (auto h = std::exchange(writer_h_, {})) h.resume();
  }

  void connected() {
    state_ = state::ready;
    ++counters_.connects;
    const bool was_open = breaker_.success();
    down_logged_ = false;
    if (up_logged_) return;
    up_logged_ = true;
    log_.log(log_level::info,
             (line{} << config_.name << ": " << (was_open ? "breaker closed: connected" : "connected")).s);
  }

  /// A connection attempt failed, or a connection was lost: one log line when that
  /// changes the state (a loss, the first failure, the breaker opening), debug otherwise.
  void failed(const std::string& why) {
    ++counters_.failures;
    const auto o = breaker_.failure(since_epoch(clock_.now()), random_);
    if (up_logged_) {
      log_.log(log_level::warn, (line{} << config_.name << ": connection lost: " << why).s);
    } else if (!down_logged_) {
      log_.log(log_level::warn, (line{} << config_.name << ": cannot connect: " << why).s);
    } else if (log_.enabled(log_level::debug)) {
      log_.log(log_level::debug, (line{} << config_.name << ": retry failed: " << why).s);
    }
    up_logged_ = false;
    down_logged_ = true;
    if (o == breaker::outcome::opened)
      log_.log(
          log_level::warn,
          (line{} << config_.name << ": breaker open after " << breaker_.failures()
                  << " consecutive failures (last: " << why << "); probing every "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(breaker_.config().open_for).count() << " ms")
              .s);
  }

  Transport& transport_;
  Clock& clock_;
  rng random_;
  client_config config_;
  const logger& log_;
  breaker breaker_;
  client_counters counters_;

  state state_ = state::connecting;
  bool alive_ = false;  // the current connection has not failed
  bool stopping_ = false;
  bool up_logged_ = false;    // the last state line said "connected"
  bool down_logged_ = false;  // the current outage has had its line
  std::string loss_reason_;
  std::optional<stream_type> stream_;
  std::optional<reply_reader> reader_;
  std::string out_;  // commands not yet handed to a write
  pipeline<time_point> pipe_;
  std::vector<std::string> shas_;

  cancel_source stop_;
  std::coroutine_handle<> writer_h_;    // the writer, parked with nothing to send
  std::coroutine_handle<> timer_h_;     // the timer, parked with no deadline to wait for
  cancel_source* timer_cut_ = nullptr;  // cuts the timer's sleep for an earlier deadline
  time_point timer_until_{};
};

}  // namespace bb::redis
