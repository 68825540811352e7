#pragma once
/// bb::connection_pool: idle keep-alive connections to each upstream, per worker.
///
/// A connection returns to the pool only after a complete response whose framing left
/// nothing unread; the newest idle one is reused first (it is the least likely to have
/// been closed by the upstream's idle timeout). A reused connection may still turn out
/// closed: the forwarder retries an idempotent request once on a fresh one.

#include <cstddef>
#include <optional>
#include <vector>

namespace bb {

/// Idle streams per upstream index, at most `max_idle` each.
template <class Stream>
class connection_pool {
public:
  connection_pool(std::size_t upstreams, std::size_t max_idle) : idle_(upstreams), max_idle_(max_idle) {}

  /// An idle connection to upstream `i`, if one is pooled.
  std::optional<Stream> take(std::size_t i) {
    auto& v = idle_[i];
    if (v.empty()) return std::nullopt;
    std::optional<Stream> s(std::move(v.back()));
    v.pop_back();
    return s;
  }

  /// Keeps `s` for reuse, or closes it when the pool for `i` is full.
  void give_back(std::size_t i, Stream s) {
    auto& v = idle_[i];
    if (v.size() >= max_idle_) {
      s.close();
      return;
    }
    v.push_back(std::move(s));
  }

  /// Closes the idle connections to upstream `i` (it was found dead).
  void drop(std::size_t i) {
    for (auto& s : idle_[i]) s.close();
    idle_[i].clear();
  }

  /// Closes every pooled connection (at shutdown).
  void clear() {
    for (auto& v : idle_) {
      for (auto& s : v) s.close();
      v.clear();
    }
  }

private:
  std::vector<std::vector<Stream>> idle_;
  std::size_t max_idle_;
};

}  // namespace bb
