#pragma once
/// bb::sim::timeline: what a run looked like over time, recorded as it happens, for a
/// person to look at (sim/timeline_html.hpp draws it).
///
/// Time is cut into buckets of 100 ms. Each bucket keeps, in a fixed size whatever the
/// load, the client outcomes by kind, a latency histogram, and per upstream the states seen
/// during it: up or down as the proxy's cluster says (bb::cluster, sampled at each client
/// outcome and each fault, so a flip shows from the next one on) and the faults it was
/// under. Past `max_buckets` buckets, neighbours merge pairwise and the width doubles, so a
/// run of any length costs at most `max_buckets` buckets. A run attaches a timeline
/// (world::attach); the recorder knows nothing of worlds, so any driver may feed it.

#include <array>
#include <atomic>
#include <bb/upstream/cluster.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <sim/latency_histogram.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

/// A client outcome as the timeline counts it: the outcome, with 5xx and 4xx by status.
enum class timeline_kind : std::uint8_t {
  ok,               ///< 2xx
  client_error,     ///< 4xx other than 429
  too_many,         ///< 429 (the rate limiter refused)
  server_error,     ///< 5xx other than 502 and 504 (an upstream's 500)
  bad_gateway,      ///< 502
  gateway_timeout,  ///< 504
  conn_error,       ///< the connection failed before a response
  timeout,          ///< the client gave up waiting
};
inline constexpr std::size_t timeline_kind_count = 8;

/// The kind's name, as the page's legend and CSS classes spell it.
constexpr std::string_view to_string(timeline_kind k) noexcept {
  constexpr std::string_view names[] = {"2xx", "4xx", "429", "5xx", "502", "504", "conn_error", "timeout"};
  return names[static_cast<int>(k)];
}

/// The kind of a request that ended as `c` says.
constexpr timeline_kind kind_of(const claim& c) noexcept {
  switch (c.what) {
    case outcome::conn_error: return timeline_kind::conn_error;
    case outcome::timeout: return timeline_kind::timeout;
    case outcome::ok: return timeline_kind::ok;
    case outcome::client_error: return c.status == 429 ? timeline_kind::too_many : timeline_kind::client_error;
    case outcome::server_error:
      return c.status == 502   ? timeline_kind::bad_gateway
             : c.status == 504 ? timeline_kind::gateway_timeout
                               : timeline_kind::server_error;
  }
  return timeline_kind::ok;
}

/// One bit per state an upstream can be seen in during a bucket (several may be set).
enum upstream_state : std::uint8_t {
  seen_up = 1,         ///< the cluster had it up
  seen_down = 2,       ///< the cluster had it down
  crashed = 4,         ///< its process was down
  partitioned = 8,     ///< the network cut it off from the proxy
  slow = 16,           ///< it served slower than its spec
  answering_500 = 32,  ///< it answered 500 to everything
  misbehaving = 64,    ///< it wrote unasked bytes
  hanging = 128,       ///< it read requests and never answered
};

/// The fault states, from the one that matters most to the one that matters least.
inline constexpr upstream_state fault_states[] = {crashed, partitioned, hanging, answering_500, slow, misbehaving};

/// The fault state's name, as the page's legend and CSS classes spell it.
constexpr std::string_view to_string(upstream_state s) noexcept {
  switch (s) {
    case seen_up: return "up";
    case seen_down: return "down";
    case crashed: return "crashed";
    case partitioned: return "partitioned";
    case slow: return "slow";
    case answering_500: return "answering_500";
    case misbehaving: return "misbehaving";
    case hanging: return "hanging";
  }
  return "";
}

/// A fault as a marker on the page: when, on which upstream, what happened.
struct timeline_marker {
  duration at{0};
  std::size_t upstream = 0;
  std::string what;
};

/// The recorder: bounded per-bucket statistics of one run.
class timeline {
public:
  static constexpr duration first_width = std::chrono::milliseconds(100);  ///< a bucket's width at start
  static constexpr std::size_t max_buckets = 1024;                         ///< past this, buckets merge pairwise
  static constexpr std::size_t max_markers = 4096;                         ///< faults past this are counted, not drawn

  /// Starts recording a run over upstreams named `names`, whose health `health` holds
  /// (nullptr: a run without a proxy, where only faults are known).
  void start(std::vector<std::string> names, cluster* health) {
    names_ = std::move(names);
    health_ = health;
    faults_.assign(names_.size(), 0);
  }

  /// Request ended as `c` says at `now`, `latency` after it was issued.
  void outcome(duration now, const claim& c, duration latency) {
    const auto b = sample(now);
    ++counts_[b * timeline_kind_count + static_cast<std::size_t>(kind_of(c))];
    latency_[b].add(latency);
  }

  /// Upstream `upstream` enters (`on`) or leaves fault state `s` at `now`; `what` names the
  /// fault for its marker (empty: no marker).
  void fault(duration now, std::size_t upstream, upstream_state s, bool on, std::string what) {
    sample(now);
    if (on) faults_[upstream] |= s;
    else faults_[upstream] &= static_cast<std::uint8_t>(~s);
    sample(now);
    if (what.empty()) return;
    if (markers_.size() < max_markers) markers_.push_back({now, upstream, std::move(what)});
    else ++dropped_markers_;
  }

  /// Reads the cluster's health at `now` into the bucket of `now`; returns that bucket.
  std::size_t sample(duration now) {
    const auto b = reach(now);
    for (std::size_t i = 0; i < names_.size(); ++i) {
      std::uint8_t s = faults_[i];
      if (health_) s |= health_->health(i).up.load(std::memory_order_relaxed) ? seen_up : seen_down;
      if (health_) last_health_[i] = s & (seen_up | seen_down);
      state_[b * names_.size() + i] |= s;
    }
    return b;
  }

  /// The run ended at `end`: the last sample, and the page's time axis.
  void finish(duration end) {
    sample(end);
    end_ = end;
  }

  [[nodiscard]] const std::vector<std::string>& upstreams() const noexcept { return names_; }
  [[nodiscard]] bool knows_health() const noexcept { return health_ != nullptr; }
  /// A bucket's width (100 ms, doubled at each merge).
  [[nodiscard]] duration width() const noexcept { return width_; }
  [[nodiscard]] std::size_t buckets() const noexcept { return latency_.size(); }
  /// Where the run ended (finish), or the end of the last bucket.
  [[nodiscard]] duration end() const noexcept {
    return end_.count() ? end_ : width_ * static_cast<std::int64_t>(buckets());
  }
  /// Requests of kind `k` that ended in bucket `b`.
  [[nodiscard]] std::uint32_t count(std::size_t b, timeline_kind k) const noexcept {
    return counts_[b * timeline_kind_count + static_cast<std::size_t>(k)];
  }
  /// The latencies of the requests that ended in bucket `b`.
  [[nodiscard]] const latency_histogram& latency(std::size_t b) const noexcept { return latency_[b]; }
  /// The states (upstream_state bits) upstream `i` was seen in during bucket `b`.
  [[nodiscard]] std::uint8_t state(std::size_t b, std::size_t i) const noexcept {
    return state_[b * names_.size() + i];
  }
  [[nodiscard]] const std::vector<timeline_marker>& markers() const noexcept { return markers_; }
  [[nodiscard]] std::uint64_t dropped_markers() const noexcept { return dropped_markers_; }

private:
  /// The index of the bucket of `now`, created (carrying the present states) if new.
  std::size_t reach(duration now) {
    while (now / width_ >= static_cast<std::int64_t>(max_buckets)) coarsen();
    const auto b = static_cast<std::size_t>(now / width_);
    if (last_health_.size() != names_.size()) last_health_.assign(names_.size(), 0);
    while (latency_.size() <= b) {
      latency_.emplace_back();
      counts_.resize(counts_.size() + timeline_kind_count, 0);
      for (std::size_t i = 0; i < names_.size(); ++i) state_.push_back(faults_[i] | last_health_[i]);
    }
    return b;
  }

  /// Merges buckets pairwise: twice the width, half the buckets.
  void coarsen() {
    const std::size_t n = names_.size(), half = (latency_.size() + 1) / 2;
    for (std::size_t b = 0; b < half; ++b) {
      const std::size_t l = 2 * b, r = 2 * b + 1;
      const bool has_r = r < latency_.size();
      for (std::size_t k = 0; k < timeline_kind_count; ++k)
        counts_[b * timeline_kind_count + k] =
            counts_[l * timeline_kind_count + k] + (has_r ? counts_[r * timeline_kind_count + k] : 0);
      latency_histogram h = latency_[l];
      if (has_r) h.merge(latency_[r]);
      latency_[b] = h;
      for (std::size_t i = 0; i < n; ++i)
        state_[b * n + i] = static_cast<std::uint8_t>(state_[l * n + i] | (has_r ? state_[r * n + i] : 0));
    }
    latency_.resize(half);
    counts_.resize(half * timeline_kind_count);
    state_.resize(half * n);
    width_ *= 2;
  }

  std::vector<std::string> names_;
  cluster* health_ = nullptr;
  std::vector<std::uint8_t> faults_;       ///< per upstream: the fault states it is in now
  std::vector<std::uint8_t> last_health_;  ///< per upstream: seen_up or seen_down at the last sample
  duration width_ = first_width;
  duration end_{0};
  std::vector<std::uint32_t> counts_;  ///< bucket-major: timeline_kind_count per bucket
  std::vector<latency_histogram> latency_;
  std::vector<std::uint8_t> state_;  ///< bucket-major: one per upstream
  std::vector<timeline_marker> markers_;
  std::uint64_t dropped_markers_ = 0;
};

}  // namespace bb::sim
