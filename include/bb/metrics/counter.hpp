#pragma once
/// bb::metrics::counter: a count that one thread writes and any thread may read.
///
/// Each worker keeps its own counters, so counting on the request path is a plain load and
/// store on memory no other thread writes: no lock, no read-modify-write, no cache line
/// bouncing between cores. A scrape sums the workers' counters; relaxed atomics make the
/// cross-thread read well defined (it may be a moment behind, never torn).

#include <atomic>
#include <cstdint>

namespace bb::metrics {

/// A monotonic count with a single writer.
class counter {
public:
  counter() noexcept = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  /// Adds `n`; only the owning thread may call it.
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// The count as of now; any thread.
  [[nodiscard]] std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> v_{0};
};

/// A level with a single writer (connections open, requests in flight on one worker).
class gauge {
public:
  gauge() noexcept = default;
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  /// Adds `n` (negative to lower it); only the owning thread may call it.
  void add(std::int64_t n) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  /// Sets the level; only the owning thread may call it.
  void set(std::int64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  /// The level as of now; any thread.
  [[nodiscard]] std::int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::int64_t> v_{0};
};

}  // namespace bb::metrics
