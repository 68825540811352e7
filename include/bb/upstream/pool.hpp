#pragma once
/// bb::connection_pool: idle keep-alive connections to each upstream, per worker, each one
/// watched while it is idle.
///
/// A connection returns to the pool only after an exchange that left it in step: the
/// request went whole, the response was read whole, and nothing beyond the response came
/// (the forwarder decides). The newest idle one is reused first (it is the least likely to
/// have been closed by the upstream's idle timeout). A reused connection may still turn out
/// closed: the forwarder retries an idempotent request once on a fresh one.
///
/// While a connection is idle, a task waits for it to become readable (a wait that reads
/// nothing, as nginx's keepalive module watches its cached connections). Nobody asked the
/// upstream anything, so whatever comes (a late body after a HEAD or 204 answer, a second
/// response, garbage, the upstream's close or a reset) ends the connection's use: it is
/// closed at once and never handed out, because the next request would be answered with
/// those bytes. A stream that can tell without waiting that input is pending
/// (pending_input_stream) is checked again when it is taken. Such closes say nothing
/// about the upstream's health; they are counted and reported to the pool's listener.
///
/// Each idle connection remembers when it was pooled, so expire() closes those idle past
/// a timeout, and the host's epoch then (cluster::comebacks), so a connection made before
/// the host went down and came back is closed rather than reused: it belongs to a process
/// or a path that is gone.

#include <bb/core/error.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>
#include <bb/metrics/counter.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace bb {

/// A stream that can say, without a system call or a wait, that a read would complete at
/// once (bytes, an end of stream or an error have arrived). Optional: a pool uses it to
/// refuse a connection whose wake-up is known but has not run yet.
template <class S>
concept pending_input_stream = byte_stream<S> && requires(const S& s) {
  { s.pending_input() } -> std::convertible_to<bool>;
};

/// Why the pool closed an idle connection on its own.
enum class pool_discard : std::uint8_t {
  unsolicited_bytes,   ///< the upstream sent bytes nobody asked for
  closed_by_upstream,  ///< the upstream closed it (its own idle timeout, a restart)
  reset,               ///< the connection failed (a reset, say); counted as closed_by_upstream
};

/// The text a log line gives for `d`.
constexpr std::string_view to_string(pool_discard d) noexcept {
  constexpr std::string_view names[] = {"sent bytes nobody asked for", "closed by the upstream", "reset"};
  return names[static_cast<int>(d)];
}

/// What happened to one upstream's pooled connections since start (single-writer counters:
/// the pool's thread counts, any thread may read).
struct pool_counters {
  metrics::counter pooled;              ///< connections given back for reuse
  metrics::counter reused;              ///< connections handed out again
  metrics::counter unsolicited;         ///< closed: bytes came while idle
  metrics::counter closed_by_upstream;  ///< closed: the upstream closed or reset them while idle
  metrics::counter expired;             ///< closed: idle past the timeout, or full pool
  metrics::counter dropped;             ///< closed: the upstream went down or came back anew
  metrics::gauge idle;                  ///< idle connections kept now
};

/// Idle streams per upstream index, at most `max_idle` each, watched while idle.
/// Single-threaded; shutdown() must be awaited before the pool is destroyed.
template <byte_stream Stream>
class connection_pool {
public:
  /// Told of every connection the pool closed because it became readable while idle.
  using listener = std::function<void(std::size_t upstream, pool_discard why)>;

  connection_pool(std::size_t upstreams, std::size_t max_idle)
      : idle_(upstreams), counters_(std::make_unique<pool_counters[]>(upstreams)), max_idle_(max_idle) {}
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// Calls `l` for every connection closed by its watch (for the log).
  void on_discard(listener l) { listener_ = std::move(l); }

  /// An idle connection to upstream `i` pooled in its current `epoch`, if there is one;
  /// those from an earlier epoch, and any with input pending, are closed.
  std::optional<Stream> take(std::size_t i, std::uint32_t epoch = 0) {
    auto& v = idle_[i];
    while (!v.empty()) {
      entry* e = v.back();
      if (e->epoch != epoch) {  // pooled in order: the newest is stale, so are all
        drop(i);
        return std::nullopt;
      }
      v.pop_back();
      level(i);
      e->stop.request_stop();  // its watch ends; the watcher frees the entry
      if (e->dead) {           // became readable; its watcher was finding out how
        e->stream.close();
        continue;
      }
      if constexpr (pending_input_stream<Stream>) {
        if (e->stream.pending_input()) {
          e->stream.close();
          discarded(i, pool_discard::unsolicited_bytes);
          continue;
        }
      }
      counters_[i].reused.add();
      return std::optional<Stream>(std::move(e->stream));
    }
    return std::nullopt;
  }

  /// Keeps `s` for reuse, pooled at `now` in the host's `epoch`, and watches it; or closes
  /// it when the pool for `i` is full.
  void give_back(std::size_t i, Stream s, std::chrono::nanoseconds now = {}, std::uint32_t epoch = 0) {
    auto& v = idle_[i];
    if (v.size() >= max_idle_) {
      s.close();
      counters_[i].expired.add();
      return;
    }
    counters_[i].pooled.add();
    auto e = std::make_unique<entry>(std::move(s), now, epoch);
    v.push_back(e.get());
    level(i);
    const auto token = e->stop.token();
    // NOTE: the watch starts inline and may end inline (input already there): `e` is the
    // watcher's from here on and must not be touched.
    watchers_.spawn(watch(i, std::move(e)), token);
  }

  /// Closes the idle connections to upstream `i` (it was found dead, or came back anew).
  void drop(std::size_t i) {
    auto& v = idle_[i];
    for (entry* e : v) {
      e->stop.request_stop();
      e->stream.close();
      if (!e->dead) counters_[i].dropped.add();
    }
    v.clear();
    level(i);
  }

  /// Closes the connections pooled before `now - idle`; how many it closed.
  std::size_t expire(std::chrono::nanoseconds now, std::chrono::nanoseconds idle) {
    std::size_t closed = 0;
    for (std::size_t i = 0; i < idle_.size(); ++i) {
      auto& v = idle_[i];
      std::size_t n = 0;  // the oldest are at the front
      while (n < v.size() && now - v[n]->since >= idle) {
        v[n]->stop.request_stop();
        v[n]->stream.close();
        if (!v[n]->dead) counters_[i].expired.add();
        ++n;
      }
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
      level(i);
      closed += n;
    }
    return closed;
  }

  /// Idle connections to upstream `i`.
  [[nodiscard]] std::size_t idle(std::size_t i) const noexcept { return idle_[i].size(); }
  /// What happened to upstream `i`'s pooled connections since start.
  [[nodiscard]] const pool_counters& counters(std::size_t i) const noexcept { return counters_[i]; }

  /// Closes every pooled connection (at shutdown); their watches end.
  void clear() {
    for (std::size_t i = 0; i < idle_.size(); ++i) drop(i);
  }

  /// Closes every pooled connection and resumes when every watch has ended.
  task<void> shutdown() {
    clear();
    co_await watchers_.join();
  }

private:
  struct entry {
    entry(Stream&& s, std::chrono::nanoseconds pooled_at, std::uint32_t ep)
        : stream(std::move(s)), since(pooled_at), epoch(ep) {}
    Stream stream;
    std::chrono::nanoseconds since;
    std::uint32_t epoch;
    cancel_source stop;  ///< stopped when the pool lets go of the entry (taken, dropped, expired)
    bool dead = false;   ///< became readable: it will be closed, never handed out
  };

  /// Waits until idle connection `e` to upstream `i` becomes readable, then finds out
  /// what came (one byte read: bytes, an end, or an error) and closes it. Ends at once,
  /// without touching the pool, once the pool let go of it (e->stop). Owns `e`.
  task<void> watch(std::size_t i, std::unique_ptr<entry> e) {
    const auto ready = co_await e->stream.read_some(std::span<char>{});
    if (e->stop.stop_requested()) co_return;
    e->dead = true;  // stays listed until it is closed below, so that clear() can reach it
    pool_discard why = pool_discard::reset;
    if (!ready.ec) {
      std::array<char, 1> probe{};
      const auto r = co_await e->stream.read_some(probe);
      if (e->stop.stop_requested()) co_return;
      why = !r.ec               ? pool_discard::unsolicited_bytes
            : r.ec == errc::eof ? pool_discard::closed_by_upstream
                                : pool_discard::reset;
    } else if (ready.ec == errc::eof) {
      why = pool_discard::closed_by_upstream;
    }
    std::erase(idle_[i], e.get());
    level(i);
    e->stream.close();
    discarded(i, why);
  }

  /// Sets upstream `i`'s idle gauge to what its list holds now.
  void level(std::size_t i) noexcept { counters_[i].idle.set(static_cast<std::int64_t>(idle_[i].size())); }

  void discarded(std::size_t i, pool_discard why) {
    if (why == pool_discard::unsolicited_bytes) counters_[i].unsolicited.add();
    else counters_[i].closed_by_upstream.add();
    if (listener_) listener_(i, why);
  }

  std::vector<std::vector<entry*>> idle_;  // owned by their watchers; oldest first
  std::unique_ptr<pool_counters[]> counters_;
  std::size_t max_idle_;
  listener listener_;
  scope watchers_;  // one watch per idle connection
};

}  // namespace bb
