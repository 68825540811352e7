#pragma once
/// Plumbing shared by the balancing policies: which hosts may take the next attempt,
/// host weights, per-host in-flight counters, and the two-candidate draw of P2C.

#include <bb/core/random.hpp>
#include <bb/lb/pick_context.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace bb::detail {

/// Checks start-up weights (one per host, each at least 1) and returns them divided by
/// their greatest common divisor, so {2,4} schedules and hashes exactly like {1,2}.
inline std::vector<std::uint32_t> reduced_weights(std::vector<std::uint32_t> w) {
  if (w.empty()) throw std::invalid_argument("balancer: no hosts (one weight per host)");
  std::uint32_t g = 0;
  for (auto x : w) {
    if (x == 0) throw std::invalid_argument("balancer: a host weight must be at least 1");
    g = std::gcd(g, x);
  }
  for (auto& x : w) x /= g;
  return w;
}

/// One host's in-flight count, alone on its cache line: every worker thread bumps it.
struct alignas(64) host_load {
  std::atomic<std::int64_t> in_flight{0};
};

/// In-flight counters for `n` hosts; movable, so the policies holding them are too.
class load_table {
public:
  explicit load_table(std::size_t n) : n_(n), loads_(std::make_unique<host_load[]>(n)) {}

  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  void start(std::size_t i) noexcept { loads_[i].in_flight.fetch_add(1, std::memory_order_relaxed); }
  void finish(std::size_t i) noexcept { loads_[i].in_flight.fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t in_flight(std::size_t i) const noexcept {
    return loads_[i].in_flight.load(std::memory_order_relaxed);
  }

private:
  std::size_t n_;
  std::unique_ptr<host_load[]> loads_;
};

/// Whether host a's weighted load, in flight / weight, is below host b's; compared by
/// cross-multiplying so it stays exact.
inline bool lighter(std::int64_t in_flight_a, std::uint32_t weight_a, std::int64_t in_flight_b,
                    std::uint32_t weight_b) noexcept {
  __extension__ using i128 = __int128;
  return static_cast<i128>(in_flight_a) * weight_b < static_cast<i128>(in_flight_b) * weight_a;
}

/// Host weights with their running sums, for draws in proportion to weight. With equal
/// weights (all 1 after reduced_weights) every draw is a uniform one, rng::below(n).
class weight_table {
public:
  explicit weight_table(std::vector<std::uint32_t> weights) : w_(reduced_weights(std::move(weights))) {
    ends_.reserve(w_.size());
    for (auto x : w_) ends_.push_back(total_ += x);
  }

  [[nodiscard]] std::size_t size() const noexcept { return w_.size(); }
  [[nodiscard]] std::uint32_t operator[](std::size_t i) const noexcept { return w_[i]; }
  [[nodiscard]] const std::vector<std::uint32_t>& weights() const noexcept { return w_; }

  /// A host drawn in proportion to weight among all hosts, except `skip` when given.
  std::size_t draw_any(rng& r, std::optional<std::size_t> skip = std::nullopt) const noexcept {
    std::uint64_t x = r.below(total_ - (skip ? w_[*skip] : 0));
    if (skip && x >= ends_[*skip] - w_[*skip]) x += w_[*skip];
    return static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), x) - ends_.begin());
  }

  /// A host drawn in proportion to weight among those `ok` accepts; nullopt when none does.
  template <class Ok>
  std::optional<std::size_t> draw_among(rng& r, Ok ok) const {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < w_.size(); ++i) total += ok(i) ? w_[i] : 0;
    if (total == 0) return std::nullopt;
    std::uint64_t x = r.below(total);
    for (std::size_t i = 0; i < w_.size(); ++i) {
      if (!ok(i)) continue;
      if (x < w_[i]) return i;
      x -= w_[i];
    }
    return std::nullopt;  // unreachable
  }

private:
  std::vector<std::uint32_t> w_;
  std::vector<std::uint64_t> ends_;  ///< ends_[i]: sum of the weights of hosts 0..i
  std::uint64_t total_ = 0;
};

/// Two distinct eligible hosts, each drawn in proportion to weight (the second among the
/// rest); only `first` when a single host is eligible, neither when none is. Draws first
/// and checks after, so with every host live (the usual case) two draws suffice.
inline std::pair<std::optional<std::size_t>, std::optional<std::size_t>> pick_two(const pick_context& ctx,
                                                                                  const weight_table& w) {
  auto& r = ctx.random;
  auto ok = [&](std::size_t i) { return ctx.eligible(i); };
  if (w.size() >= 2) {
    const auto a = w.draw_any(r);
    const auto b = w.draw_any(r, a);
    if (ok(a) && ok(b)) return {a, b};
  }
  const auto a = w.draw_among(r, ok);
  if (!a) return {};
  return {a, w.draw_among(r, [&](std::size_t i) { return i != *a && ok(i); })};
}

}  // namespace bb::detail
