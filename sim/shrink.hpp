#pragma once
/// bb::sim::shrink: delta-debugs a failing swarm run down to a small one that still breaks
/// the same invariant.
///
/// First the fault schedule (ddmin over every fault but the heals), then the drawn
/// features, one at a time, toward their defaults; each step is kept only when the run
/// still fails with the same invariant (the name before ` (#` in the first violation).
/// Runs are bounded, and a step that was tried once is not run again.

#include <algorithm>
#include <bb/lb/balance_policy.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <sim/case_file.hpp>
#include <sim/scenario.hpp>
#include <sim/world.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

/// The invariant a violation message names: the text before " (#" (all of it when there is none).
inline std::string invariant_of(std::string_view first_violation) {
  return std::string(first_violation.substr(0, first_violation.find(" (#")));
}

/// How to shrink: the run budget, the run itself (a test may stand in a fake) and a progress sink.
struct shrink_options {
  std::size_t max_runs = 200;                        ///< runs of candidate scenarios, at most
  std::function<report(const scenario&)> run;        ///< empty: a world runs the scenario
  std::function<void(const std::string&)> progress;  ///< told each kept step (may be empty)
};

/// What shrinking found: the smallest failing scenario and how it got there.
struct shrink_result {
  scenario minimal;               ///< still fails with `invariant`
  report last;                    ///< the run of `minimal` (the input's, if nothing was kept)
  std::string invariant;          ///< the invariant held fixed
  std::size_t runs = 0;           ///< candidate runs spent
  std::size_t faults_before = 0;  ///< faults other than heals, before and after
  std::size_t faults_after = 0;
  std::vector<std::string> kept;  ///< the simplifications that kept it failing, in order
};

namespace detail {

inline bool is_heal(const fault& f) noexcept { return f.what == fault::kind::heal; }

/// `sc` without upstream `i` (which no fault but its heal may name); later targets shift down.
inline scenario without_upstream(scenario sc, std::size_t i) {
  sc.upstreams.erase(sc.upstreams.begin() + static_cast<std::ptrdiff_t>(i));
  std::erase_if(sc.faults, [i](const fault& f) { return f.target == i; });
  for (auto& f : sc.faults)
    if (f.target > i) --f.target;
  return sc;
}

class shrinker {
public:
  shrinker(scenario sc, report r, std::string invariant, shrink_options opt) : opt_(std::move(opt)) {
    res_.minimal = std::move(sc);
    res_.last = std::move(r);
    res_.invariant = std::move(invariant);
    if (!opt_.run) opt_.run = [](const scenario& s) { return world(s).run(); };
  }

  shrink_result run() && {
    res_.faults_before = count_faults(res_.minimal);
    for (bool changed = true; changed && budget();) {  // a simpler world may need fewer faults
      changed = shrink_faults();
      for (auto& [name, step] : feature_steps())
        while (budget()) {  // a step that halves repeats while it helps
          auto next = step(res_.minimal);
          if (!next || !attempt(std::move(*next), name)) break;
          changed = true;
        }
      for (std::size_t i = res_.minimal.upstreams.size(); i-- > 0 && res_.minimal.upstreams.size() > 1 && budget();)
        if (!named(res_.minimal, i))
          changed |= attempt(without_upstream(res_.minimal, i), "drop upstream " + res_.minimal.upstreams[i].name);
    }
    res_.faults_after = count_faults(res_.minimal);
    return std::move(res_);
  }

private:
  using step_fn = std::function<std::optional<scenario>(const scenario&)>;

  static std::size_t count_faults(const scenario& sc) {
    return static_cast<std::size_t>(
        std::count_if(sc.faults.begin(), sc.faults.end(), [](const fault& f) { return !is_heal(f); }));
  }
  static bool named(const scenario& sc, std::size_t i) {
    return std::any_of(sc.faults.begin(), sc.faults.end(),
                       [i](const fault& f) { return !is_heal(f) && f.target == i; });
  }
  [[nodiscard]] bool budget() const noexcept { return res_.runs < opt_.max_runs; }

  /// Runs `candidate`; keeps it when it fails the same invariant.
  bool attempt(scenario candidate, const std::string& what) {
    if (!budget()) return false;
    std::ostringstream key;
    write_case(key, candidate);
    if (!tried_.insert(key.str()).second) return false;
    ++res_.runs;
    auto r = opt_.run(candidate);
    if (r.violations == 0 || invariant_of(r.first_violation) != res_.invariant) return false;
    res_.minimal = std::move(candidate);
    res_.last = std::move(r);
    res_.kept.push_back(what);
    if (opt_.progress)
      opt_.progress("shrink: run " + std::to_string(res_.runs) + ": " + what + ": still " + res_.invariant);
    return true;
  }

  /// ddmin over the faults other than heals (their order is kept); true when some were dropped.
  bool shrink_faults() {
    std::vector<fault> heals, c;
    for (const auto& f : res_.minimal.faults) (is_heal(f) ? heals : c).push_back(f);
    auto with = [&](const std::vector<fault>& kept) {
      scenario s = res_.minimal;
      s.faults = kept;
      s.faults.insert(s.faults.end(), heals.begin(), heals.end());
      std::stable_sort(s.faults.begin(), s.faults.end(), [](const fault& a, const fault& b) { return a.at < b.at; });
      return s;
    };
    auto label = [&](std::size_t n) { return "faults " + std::to_string(c.size()) + " -> " + std::to_string(n); };
    const auto before = c.size();
    if (c.empty()) return false;
    if (attempt(with({}), label(0))) return true;
    for (std::size_t n = 2; c.size() >= 2 && budget();) {
      const std::size_t size = c.size(), chunk = (size + n - 1) / n;
      bool reduced = false;
      for (std::size_t b = 0; b < size && !reduced; b += chunk) {
        const auto e = std::min(size, b + chunk);
        std::vector<fault> part(c.begin() + static_cast<std::ptrdiff_t>(b), c.begin() + static_cast<std::ptrdiff_t>(e));
        std::vector<fault> rest(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(b));
        rest.insert(rest.end(), c.begin() + static_cast<std::ptrdiff_t>(e), c.end());
        if (part.size() < size && attempt(with(part), label(part.size()))) c = std::move(part), n = 2, reduced = true;
        else if (n > 2 && attempt(with(rest), label(rest.size())))
          c = std::move(rest), n = std::max<std::size_t>(n - 1, 2), reduced = true;
      }
      if (!reduced) {
        if (n >= size) break;
        n = std::min(n * 2, size);
      }
    }
    return c.size() < before;
  }

  /// The features, each moved one step toward its default (nullopt: it is there already).
  static std::vector<std::pair<std::string, step_fn>> feature_steps() {
    using namespace std::chrono_literals;
    std::vector<std::pair<std::string, step_fn>> s;
    auto add = [&s](std::string name, step_fn f) { s.emplace_back(std::move(name), std::move(f)); };
    add("rate limit off", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.swarm->rate_limit == 0) return {};
      auto t = sc;
      t.swarm->rate_limit = 0;
      return t;
    });
    add("pipelining 1", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.pipeline == 1) return {};
      auto t = sc;
      t.clients.pipeline = 1;
      return t;
    });
    add("bodies small (16 bytes)", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.max_body <= 16) return {};
      auto t = sc;
      t.clients.max_body = 16;
      return t;
    });
    add("pool default (64)", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.swarm->pool_size == 64) return {};
      auto t = sc;
      t.swarm->pool_size = 64;
      return t;
    });
    add("no trickled uploads", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.slow_upload_fraction == 0) return {};
      auto t = sc;
      t.clients.slow_upload_fraction = 0;
      return t;
    });
    add("no HEADs", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.head_fraction == 0) return {};
      auto t = sc;
      t.clients.head_fraction = 0;
      return t;
    });
    add("one proxy worker", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.proxy_workers <= 1) return {};
      auto t = sc;
      t.proxy_workers = 1;
      return t;
    });
    add("no slow readers", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.slow_read_fraction == 0 && sc.clients.receive_window == 0) return {};
      auto t = sc;
      t.clients.slow_read_fraction = 0;
      t.clients.receive_window = 0;
      return t;
    });
    add("no bare POSTs", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.bare_post_fraction == 0) return {};
      auto t = sc;
      t.clients.bare_post_fraction = 0;
      return t;
    });
    add("no closed-loop users", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.closed_users == 0) return {};
      auto t = sc;
      t.clients.closed_users = 0;
      return t;
    });
    add("slow upstreams echo", [](const scenario& sc) -> std::optional<scenario> {
      if (std::none_of(sc.upstreams.begin(), sc.upstreams.end(),
                       [](const upstream_spec& u) { return u.kind == behaviour::slow; }))
        return {};
      auto t = sc;
      for (auto& u : t.upstreams)
        if (u.kind == behaviour::slow) u.kind = behaviour::echo;
      return t;
    });
    add("weights all 1", [](const scenario& sc) -> std::optional<scenario> {
      if (std::all_of(sc.upstreams.begin(), sc.upstreams.end(), [](const upstream_spec& u) { return u.weight == 1; }))
        return {};
      auto t = sc;
      for (auto& u : t.upstreams) u.weight = 1;
      return t;
    });
    add("client hosts halved", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.client_hosts <= 1) return {};
      auto t = sc;
      t.client_hosts /= 2;
      return t;
    });
    add("open-loop rate halved", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.clients.rate < 20) return {};
      auto t = sc;
      t.clients.rate = static_cast<double>(static_cast<std::uint64_t>(sc.clients.rate / 2));
      return t;
    });
    add("heal 1 s after the last fault", [](const scenario& sc) -> std::optional<scenario> {
      duration last = 1s;
      for (const auto& f : sc.faults)
        if (!is_heal(f)) last = std::max(last, f.at);
      const auto heal = last + 1s, cut = sc.swarm->heal_at - heal;
      if (cut <= duration{0}) return {};
      auto t = sc;
      t.swarm->heal_at = heal;
      for (auto& f : t.faults)
        if (is_heal(f)) f.at = heal;
      t.length -= cut;
      return t;
    });
    add("load ends 1 s after the liveness bound", [](const scenario& sc) -> std::optional<scenario> {
      const auto end = sc.swarm->heal_at + sc.swarm->liveness_bound + 1s;
      if (sc.length <= end) return {};
      auto t = sc;
      t.length = end;
      return t;
    });
    add("policy random", [](const scenario& sc) -> std::optional<scenario> {
      if (sc.balance == bb::balance_policy::random) return {};
      auto t = sc;
      t.balance = bb::balance_policy::random;
      return t;
    });
    return s;
  }

  shrink_options opt_;
  shrink_result res_;
  std::set<std::string> tried_;
};

}  // namespace detail

/// Shrinks swarm run `failing`, whose run `r` broke `invariant` (invariant_of its first
/// violation), to a scenario that still breaks it, in at most `opt.max_runs` runs.
inline shrink_result shrink(scenario failing, report r, std::string invariant, shrink_options opt = {}) {
  return detail::shrinker(std::move(failing), std::move(r), std::move(invariant), std::move(opt)).run();
}

}  // namespace bb::sim
