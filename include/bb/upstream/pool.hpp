#pragma once
/// bb::connection_pool: idle keep-alive connections to each upstream, per worker.
///
/// A connection returns to the pool only after a complete response whose framing left
/// nothing unread; the newest idle one is reused first (it is the least likely to have
/// been closed by the upstream's idle timeout). A reused connection may still turn out
/// closed: the forwarder retries an idempotent request once on a fresh one.
///
/// Each idle connection remembers when it was pooled, so expire() closes those idle past
/// a timeout, and the host's epoch then (cluster::comebacks), so a connection made before
/// the host went down and came back is closed rather than reused: it belongs to a process
/// or a path that is gone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bb {

/// Idle streams per upstream index, at most `max_idle` each.
template <class Stream>
class connection_pool {
public:
  connection_pool(std::size_t upstreams, std::size_t max_idle) : idle_(upstreams), max_idle_(max_idle) {}

  /// An idle connection to upstream `i` pooled in its current `epoch`, if there is one;
  /// those from an earlier epoch are closed.
  std::optional<Stream> take(std::size_t i, std::uint32_t epoch = 0) {
    auto& v = idle_[i];
    if (v.empty()) return std::nullopt;
    if (v.back().epoch != epoch) {  // pooled in order: the newest is stale, so are all
      drop(i);
      return std::nullopt;
    }
    std::optional<Stream> s(std::move(v.back().stream));
    v.pop_back();
    return s;
  }

  /// Keeps `s` for reuse, pooled at `now_ns` in the host's `epoch`, or closes it when the
  /// pool for `i` is full.
  void give_back(std::size_t i, Stream s, std::int64_t now_ns = 0, std::uint32_t epoch = 0) {
    auto& v = idle_[i];
    if (v.size() >= max_idle_) {
      s.close();
      return;
    }
    v.push_back({std::move(s), now_ns, epoch});
  }

  /// Closes the idle connections to upstream `i` (it was found dead).
  void drop(std::size_t i) {
    for (auto& e : idle_[i]) e.stream.close();
    idle_[i].clear();
  }

  /// Closes the connections pooled before `now_ns - idle_ns`; how many it closed.
  std::size_t expire(std::int64_t now_ns, std::int64_t idle_ns) {
    std::size_t closed = 0;
    for (auto& v : idle_) {
      std::size_t n = 0;  // the oldest are at the front
      while (n < v.size() && now_ns - v[n].since_ns >= idle_ns) v[n++].stream.close();
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
      closed += n;
    }
    return closed;
  }

  /// Idle connections to upstream `i`.
  [[nodiscard]] std::size_t idle(std::size_t i) const noexcept { return idle_[i].size(); }

  /// Closes every pooled connection (at shutdown).
  void clear() {
    for (std::size_t i = 0; i < idle_.size(); ++i) drop(i);
  }

private:
  struct entry {
    Stream stream;
    std::int64_t since_ns;
    std::uint32_t epoch;
  };
  std::vector<std::vector<entry>> idle_;
  std::size_t max_idle_;
};

}  // namespace bb
