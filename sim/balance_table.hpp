#pragma once
/// bb::sim::compare_policies: one balancing scenario and seed under all six policies, the
/// invariant that spans runs (slow_upstream: p2c's and peak-ewma's client p99 far below
/// random's), and the side-by-side table `sim --balance all` prints.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sim/scenarios.hpp>
#include <sim/world.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bb::sim {

/// Every policy, in the order of the `--balance` documentation.
inline constexpr std::array<bb::balance_policy, 6> all_policies{
    bb::balance_policy::random, bb::balance_policy::round_robin,     bb::balance_policy::least_requests,
    bb::balance_policy::p2c,    bb::balance_policy::consistent_hash, bb::balance_policy::peak_ewma};

/// slow_upstream: the client p99 after the slowdown under least-requests, p2c and peak-ewma
/// must be under this fraction of random's (sim/README.md: the physics gives about 4 times).
inline constexpr double max_p99_vs_random = 0.5;
/// weighted: peak-ewma, which follows capacity by latency rather than the weights, must
/// keep the client p99 within this factor of round-robin's, which follows them exactly.
inline constexpr double max_p99_vs_round_robin = 1.5;

/// One policy's run of a comparison.
struct policy_run {
  bb::balance_policy policy;
  scenario sc;
  report r;
};

/// The scenario `name` for `seed` under every policy (same load, same faults).
inline std::vector<policy_run> compare_policies(std::string_view name, std::uint64_t seed,
                                                std::optional<duration> length = {}) {
  std::vector<policy_run> runs;
  for (auto p : all_policies) {
    auto sc = make_scenario(name, seed, length, p);
    world w(sc);
    auto r = w.run();
    runs.push_back({p, std::move(sc), std::move(r)});
  }
  return runs;
}

/// The run of `p` among `runs`.
inline const policy_run& run_of(const std::vector<policy_run>& runs, bb::balance_policy p) {
  for (const auto& x : runs)
    if (x.policy == p) return x;
  return runs.front();
}

/// What a run's client p99 is compared with in the invariant across runs (random's in
/// slow_upstream, round-robin's in weighted).
inline duration reference_p99(const std::vector<policy_run>& runs) {
  const bool slow = runs.front().r.balance->setup.what == balance_setup::kind::slow_upstream;
  const auto p99 = run_of(runs, slow ? bb::balance_policy::random : bb::balance_policy::round_robin).r.balance->p99;
  return std::max(p99, duration{1});
}

/// The invariants across runs: texts of their violations (none when they hold).
inline std::vector<std::string> cross_run_violations(const std::vector<policy_run>& runs) {
  std::vector<std::string> out;
  if (runs.empty() || !runs.front().r.balance) return out;
  const auto what = runs.front().r.balance->setup.what;
  const auto base = static_cast<double>(reference_p99(runs).count());
  auto check = [&](bb::balance_policy p, double factor, std::string_view of) {
    const auto p99 = run_of(runs, p).r.balance->p99;
    if (static_cast<double>(p99.count()) < factor * base) return;
    out.push_back("client p99 under " + std::string(to_string(p)) + " " + std::to_string(p99.count() / 1'000'000) +
                  " ms is not under " + std::to_string(factor).substr(0, 4) + " x " + std::string(of) + "'s " +
                  std::to_string(static_cast<std::int64_t>(base) / 1'000'000) + " ms");
  };
  if (what == balance_setup::kind::slow_upstream) {
    for (auto p : {bb::balance_policy::least_requests, bb::balance_policy::p2c, bb::balance_policy::peak_ewma})
      check(p, max_p99_vs_random, "random");
  } else if (what == balance_setup::kind::weighted) {
    check(bb::balance_policy::peak_ewma, max_p99_vs_round_robin, "round-robin");
  }
  return out;
}

namespace detail {
inline double ms_of(duration d) { return static_cast<double>(d.count()) / 1e6; }
}  // namespace detail

/// The table of one comparison.
inline void print_comparison(std::FILE* f, const std::vector<policy_run>& runs) {
  const auto& b0 = *runs.front().r.balance;
  const auto& su = b0.setup;
  const auto n = b0.names.size();
  if (su.what == balance_setup::kind::slow_upstream) {
    const auto& slow = b0.names[su.target];
    std::fprintf(f, "%s, seed %llu: %s serves %gx slower from %.3f s; latency and shares from then on\n",
                 runs.front().sc.name.c_str(), static_cast<unsigned long long>(runs.front().sc.seed), slow.c_str(),
                 su.slowdown, detail::ms_of(su.at) / 1000);
    std::fprintf(f, "| policy | p50 ms | p99 ms | p99 / random |");
    for (std::size_t i = 0; i < n; ++i)
      std::fprintf(f, " %s%s |", b0.names[i].c_str(), i == su.target ? " (slow)" : "");
    std::fprintf(f, " %s from +%llds |\n|---|---|---|---|", slow.c_str(),
                 static_cast<long long>(su.settle.count() / 1'000'000'000));
    for (std::size_t i = 0; i <= n; ++i) std::fprintf(f, "---|");
    std::fprintf(f, "\n");
    const auto base = reference_p99(runs);
    for (const auto& x : runs) {
      const auto& b = *x.r.balance;
      std::fprintf(f, "| %s | %.1f | %.1f | %.2f |", std::string(to_string(x.policy)).c_str(), detail::ms_of(b.p50),
                   detail::ms_of(b.p99), static_cast<double>(b.p99.count()) / static_cast<double>(base.count()));
      for (std::size_t i = 0; i < n; ++i) std::fprintf(f, " %.1f %% |", 100 * balance_report::share(b.after, i));
      std::fprintf(f, " %.1f %% |\n", 100 * balance_report::share(b.settled, su.target));
    }
  } else {
    std::fprintf(f, "%s, seed %llu: shares of the run's requests (weight share in brackets)\n",
                 runs.front().sc.name.c_str(), static_cast<unsigned long long>(runs.front().sc.seed));
    std::fprintf(f, "| policy |");
    for (std::size_t i = 0; i < n; ++i)
      std::fprintf(f, " %s w=%u (%.1f %%) |", b0.names[i].c_str(), b0.weights[i], 100 * b0.weight_share(i));
    std::fprintf(f, " max deviation | p99 ms | p99 / round-robin |\n|---|");
    for (std::size_t i = 0; i < n + 3; ++i) std::fprintf(f, "---|");
    std::fprintf(f, "\n");
    const auto base = reference_p99(runs);
    for (const auto& x : runs) {
      const auto& b = *x.r.balance;
      double dev = 0;
      std::fprintf(f, "| %s |", std::string(to_string(x.policy)).c_str());
      for (std::size_t i = 0; i < n; ++i) {
        const double s = balance_report::share(b.total, i);
        dev = std::max(dev, std::abs(s - b.weight_share(i)));
        std::fprintf(f, " %.1f %% |", 100 * s);
      }
      const double tol = x.sc.balancing->share_tolerance;
      std::fprintf(f, " %.1f pp (%s) | %.1f | %.2f |\n", 100 * dev,
                   tol > 0 ? ("bound " + std::to_string(100 * tol).substr(0, 3)).c_str() : "not bounded",
                   detail::ms_of(b.p99), static_cast<double>(b.p99.count()) / static_cast<double>(base.count()));
    }
  }
}

/// The worst case per policy over many comparisons (one per seed).
class comparison_summary {
public:
  void add(const std::vector<policy_run>& runs) {
    if (rows_.empty()) rows_.resize(runs.size());
    ++seeds_;
    const auto base = reference_p99(runs);
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const auto& x = runs[k];
      const auto& b = *x.r.balance;
      auto& w = rows_[k];
      w.policy = x.policy;
      what_ = b.setup.what;
      w.p50 = std::max(w.p50, b.p50);
      w.p99 = std::max(w.p99, b.p99);
      w.ratio = std::max(w.ratio, static_cast<double>(b.p99.count()) / static_cast<double>(base.count()));
      if (b.setup.what == balance_setup::kind::slow_upstream) {
        w.after = std::max(w.after, balance_report::share(b.after, b.setup.target));
        w.settled = std::max(w.settled, balance_report::share(b.settled, b.setup.target));
      } else {
        for (std::size_t i = 0; i < b.names.size(); ++i)
          w.dev = std::max(w.dev, std::abs(balance_report::share(b.total, i) - b.weight_share(i)));
      }
      w.violations += x.r.violations;
    }
  }

  void print(std::FILE* f, std::uint64_t first, std::uint64_t last) const {
    std::fprintf(f, "worst over seeds %llu..%llu (%zu runs per policy):\n", static_cast<unsigned long long>(first),
                 static_cast<unsigned long long>(last), seeds_);
    if (what_ == balance_setup::kind::slow_upstream) {
      std::fprintf(f,
                   "| policy | max p50 ms | max p99 ms | max p99 / random | max slow share | max slow share from +5 s "
                   "| violations |\n");
      std::fprintf(f, "|---|---|---|---|---|---|---|\n");
      for (const auto& w : rows_)
        std::fprintf(f, "| %s | %.1f | %.1f | %.2f | %.1f %% | %.1f %% | %llu |\n",
                     std::string(to_string(w.policy)).c_str(), detail::ms_of(w.p50), detail::ms_of(w.p99), w.ratio,
                     100 * w.after, 100 * w.settled, static_cast<unsigned long long>(w.violations));
    } else {
      std::fprintf(f,
                   "| policy | max deviation from weight share | max p99 ms | max p99 / round-robin | violations |\n");
      std::fprintf(f, "|---|---|---|---|---|\n");
      for (const auto& w : rows_)
        std::fprintf(f, "| %s | %.1f pp | %.1f | %.2f | %llu |\n", std::string(to_string(w.policy)).c_str(),
                     100 * w.dev, detail::ms_of(w.p99), w.ratio, static_cast<unsigned long long>(w.violations));
    }
  }

private:
  struct row {
    bb::balance_policy policy{};
    duration p50{0}, p99{0};
    double ratio = 0, after = 0, settled = 0, dev = 0;
    std::uint64_t violations = 0;
  };
  std::vector<row> rows_;
  std::size_t seeds_ = 0;
  balance_setup::kind what_ = balance_setup::kind::slow_upstream;
};

/// The balancing lines of one run's text report.
inline void print_balance(std::FILE* f, const balance_report& b) {
  const auto& su = b.setup;
  const bool slow = su.what == balance_setup::kind::slow_upstream;
  for (std::size_t i = 0; i < b.names.size(); ++i) {
    std::fprintf(f, "balance: %s (weight %u): %.1f %% of all requests", b.names[i].c_str(), b.weights[i],
                 100 * balance_report::share(b.total, i));
    if (slow)
      std::fprintf(f, ", %.1f %% from the slowdown, %.1f %% from +%llds%s", 100 * balance_report::share(b.after, i),
                   100 * balance_report::share(b.settled, i), static_cast<long long>(su.settle.count() / 1'000'000'000),
                   i == su.target ? " (the slow one)" : "");
    std::fprintf(f, "\n");
  }
  std::fprintf(f, "balance: client latency%s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%llu requests)\n",
               slow ? " from the slowdown" : "", detail::ms_of(b.p50), detail::ms_of(b.p99), detail::ms_of(b.max),
               static_cast<unsigned long long>(b.samples));
}

}  // namespace bb::sim
