// sim: runs balancebeam's proxy on the simulated network under a named scenario.
//
//   sim --list
//   sim --scenario steady [--seed N | --seeds A..B] [--duration SECONDS] [--trace] [--json]
//   sim --scenario slow_upstream --balance peak-ewma --seed 3
//   sim --scenario slow_upstream --balance all --seeds 1..10    (side-by-side tables)
//   sim --swarm --seeds 1..200                                  (features and faults drawn per seed)
//   sim --scenario upstream_flap --seed 7 --timeline flap.html   (the run drawn on one page)
//   sim --swarm --seed 31 --save-case 31.case; sim --case 31.case (a run as a file, replayed)
//   sim --shrink 724                                            (a failing swarm seed made small)
//
// The only wall-clock reading of the simulator is here, to report its speed.

#include <chrono>
#include <cli/parse.hpp>
#include <cli/usage.hpp>
#include <cli/values.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sim/balance_table.hpp>
#include <sim/case_file.hpp>
#include <sim/report_print.hpp>
#include <sim/scenarios.hpp>
#include <sim/shrink.hpp>
#include <sim/swarm.hpp>
#include <sim/timeline.hpp>
#include <sim/timeline_html.hpp>
#include <sim/world.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr std::uint64_t default_seed = 1;

struct options {
  std::string scenario = "steady";
  std::uint64_t first = default_seed, last = default_seed;
  std::optional<double> duration_s;
  std::optional<bb::balance_policy> balance;
  bool trace = false, json = false, list = false, sweep = false, all_policies = false, swarm = false;
  std::string timeline;                          // --timeline FILE: the page to write (empty: none)
  std::string case_file, save_case, shrink_out;  // --case, --save-case, --shrink-out FILE
  bool shrink = false, no_shrink = false;        // --shrink SEED; --no-shrink
  std::size_t shrink_runs = 200;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "sim: %s\n", why.c_str());
  std::exit(2);
}

// A scenario that --list names.
struct scenario_name {
  using value_type = std::string;
  [[nodiscard]] std::string expected() const { return "a scenario that sim --list names"; }
  [[nodiscard]] std::string values() const { return "`sim --list` names them"; }
  bb::cli::parsed<std::string> operator()(std::string_view text) const {
    for (const auto& [name, what] : bb::sim::scenario_list())
      if (name == text) return std::string(text);
    return bb::cli::refusal{"expected " + expected()};
  }
};

// "A..B": the seeds from A to B.
struct seed_range {
  using value_type = std::pair<std::uint64_t, std::uint64_t>;
  [[nodiscard]] std::string expected() const { return "A..B, whole numbers with A <= B"; }
  [[nodiscard]] std::string values() const { return "A <= B"; }
  bb::cli::parsed<value_type> operator()(std::string_view text) const {
    const auto dots = text.find("..");
    if (dots != std::string_view::npos) {
      auto a = bb::cli::whole<std::uint64_t>{}(text.substr(0, dots));
      auto b = bb::cli::whole<std::uint64_t>{}(text.substr(dots + 2));
      if (a && b && *a <= *b) return value_type{*a, *b};
    }
    return bb::cli::refusal{"expected " + expected()};
  }
};

// A policy, or "all" (nullopt): every policy, side by side.
bb::cli::one_of<std::optional<bb::balance_policy>> balance_words() {
  bb::cli::one_of<std::optional<bb::balance_policy>> words;
  for (auto p = bb::balance_policy::random;; p = static_cast<bb::balance_policy>(static_cast<int>(p) + 1)) {
    words.words.push_back({bb::to_string(p), p});
    if (p == bb::balance_policy::peak_ewma) break;
  }
  words.words.push_back({"all", std::nullopt, "each policy in turn, then the tables side by side"});
  return words;
}

std::vector<bb::cli::flag<options>> flag_table() {
  using bb::cli::boolean;
  using bb::cli::handle;
  using bb::cli::store;
  return {
      {.name = "list",
       .meaning = "print the scenarios and what each checks, then exit",
       .sets = store(boolean{}, &options::list)},
      {.name = "scenario",
       .value_name = "NAME",
       .default_value = "steady",
       .meaning = "the scenario to run ({values})",
       .sets = store(scenario_name{}, &options::scenario)},
      {.name = "seed",
       .value_name = "N",
       .default_shown = "1",
       .meaning = "the seed of the run (a whole number)",
       .sets =
           handle<options>(bb::cli::whole<std::uint64_t>{}, [](options& o, std::uint64_t n) { o.first = o.last = n; })},
      {.name = "seeds",
       .value_name = "A..B",
       .meaning = "runs seeds A to B ({values}), one line each; wins over --seed",
       .sets = handle<options>(seed_range{},
                               [](options& o, std::pair<std::uint64_t, std::uint64_t> r) {
                                 o.first = r.first, o.last = r.second, o.sweep = true;
                               })},
      {.name = "duration",
       .value_name = "SECONDS",
       .default_shown = "the scenario's",
       .meaning = "virtual seconds of load (fractions allowed)",
       .sets = handle<options>(
           bb::cli::seconds{},
           [](options& o, std::chrono::nanoseconds d) { o.duration_s = std::chrono::duration<double>(d).count(); })},
      {.name = "balance",
       .value_name = "POLICY",
       .default_shown = "the scenario's",
       .meaning = "the proxy's balancing policy: {values}",
       .sets = handle<options>(balance_words(),
                               [](options& o, std::optional<bb::balance_policy> p) {
                                 if (p) o.balance = p;
                                 else o.all_policies = true;
                               })},
      {.name = "swarm",
       .meaning = "draw the features, faults and load from each seed (sim/swarm.hpp) instead of a scenario",
       .sets = store(boolean{}, &options::swarm)},
      {.name = "timeline",
       .value_name = "FILE",
       .meaning = "write the run as one self-contained HTML page (health, faults, outcomes, latency over time)",
       .sets = handle<options>(bb::cli::text{}, [](options& o, std::string f) { o.timeline = std::move(f); })},
      {.name = "case",
       .value_name = "FILE",
       .meaning = "run the swarm case FILE holds (written by --save-case or a shrink) instead of a seed",
       .sets = handle<options>(bb::cli::text{}, [](options& o, std::string f) { o.case_file = std::move(f); })},
      {.name = "save-case",
       .value_name = "FILE",
       .meaning = "write the run's swarm case to FILE (one run: --swarm --seed N or --case)",
       .sets = handle<options>(bb::cli::text{}, [](options& o, std::string f) { o.save_case = std::move(f); })},
      {.name = "shrink",
       .value_name = "SEED",
       .meaning = "run swarm seed SEED and, if it fails, shrink it to a small case that breaks the same invariant",
       .sets = handle<options>(bb::cli::whole<std::uint64_t>{},
                               [](options& o, std::uint64_t n) { o.first = o.last = n, o.shrink = o.swarm = true; })},
      {.name = "shrink-out",
       .value_name = "FILE",
       .default_shown = "shrunk-SEED.case",
       .meaning = "where a shrink writes its case",
       .sets = handle<options>(bb::cli::text{}, [](options& o, std::string f) { o.shrink_out = std::move(f); })},
      {.name = "shrink-runs",
       .value_name = "N",
       .default_shown = "200",
       .meaning = "the most runs one shrink may spend",
       .sets = store(bb::cli::whole<std::size_t>{}, &options::shrink_runs)},
      {.name = "no-shrink",
       .meaning = "--swarm: report a failing seed without shrinking it",
       .sets = store(boolean{}, &options::no_shrink)},
      {.name = "trace", .meaning = "print every event of the run", .sets = store(boolean{}, &options::trace)},
      {.name = "json", .meaning = "print the report as one JSON object", .sets = store(boolean{}, &options::json)},
      {.name = "help", .short_name = 'h', .meaning = "print the flags and exit 0", .request = true},
  };
}

options parse(int argc, char** argv) {
  const auto cli = bb::cli::parse(flag_table(), {argv + 1, argv + argc});
  if (cli.error) usage(cli.error->message);
  if (!cli.request.empty()) {  // --help
    std::fputs(bb::cli::help_text("sim: runs balancebeam's proxy on the simulated network under a named scenario.\n\n"
                                  "usage: sim [--list] [--scenario NAME] [--seed N | --seeds A..B]\n"
                                  "           [--duration SECONDS] [--balance NAME|all] [--timeline FILE]\n"
                                  "           [--trace] [--json]\n"
                                  "       sim --swarm [--seed N | --seeds A..B] [--timeline FILE] [--trace] [--json]\n"
                                  "                   [--save-case FILE] [--no-shrink] [--shrink-out FILE]\n"
                                  "       sim --case FILE [--timeline FILE] [--trace] [--json]\n"
                                  "       sim --shrink SEED [--shrink-out FILE] [--shrink-runs N]",
                                  flag_table())
                   .c_str(),
               stdout);
    std::exit(0);
  }
  return cli.settings;
}

using bb::sim::print_json;
using bb::sim::print_text;
using bb::sim::print_trace;
using bb::sim::detail::seconds;

/// The command that replays `sc` as `o` ran it.
std::string replay_command(const options& o, const bb::sim::scenario& sc) {
  if (!o.case_file.empty()) return "build/bin/sim --case " + o.case_file + " --timeline " + o.timeline;
  if (o.swarm) return "build/bin/sim --swarm --seed " + std::to_string(sc.seed) + " --timeline " + o.timeline;
  std::string c = "build/bin/sim --scenario " + sc.name;
  if (o.balance) c += " --balance " + std::string(to_string(*o.balance));
  c += " --seed " + std::to_string(sc.seed);
  if (o.duration_s) c += " --duration " + std::to_string(*o.duration_s);
  return c + " --timeline " + o.timeline;
}

/// --timeline: writes the page of the run `tl` recorded into `f` (opened before the run, so
/// that a file that cannot be written is a usage error before any work).
void write_timeline(std::ofstream& f, const options& o, const bb::sim::scenario& sc, const bb::sim::timeline& tl) {
  bb::sim::timeline_header h{sc.name, sc.seed, sc.parameters(), replay_command(o, sc)};
  h.parameters.emplace_back("load", std::to_string(static_cast<double>(sc.length.count()) / 1e9).substr(0, 7) + " s");
  bb::sim::write_timeline_html(f, tl, h);
  f.close();
  if (!f) usage("--timeline: cannot write " + o.timeline);
}

/// `--balance all`: the scenario under every policy, seed by seed, with its tables.
int compare(const options& o, std::optional<bb::sim::duration> length) {
  if (!bb::sim::is_balance_scenario(o.scenario) || o.scenario == "hash_stability")
    usage("--balance all compares slow_upstream or weighted");
  int failed = 0;
  bb::sim::comparison_summary worst;
  for (std::uint64_t seed = o.first;; ++seed) {
    const auto runs = bb::sim::compare_policies(o.scenario, seed, length);
    for (const auto& x : runs) {
      const auto& r = x.r;
      std::printf("seed %llu, %s: %llu requests, %llu violations, trace hash: %016llx\n",
                  static_cast<unsigned long long>(seed), std::string(to_string(x.policy)).c_str(),
                  static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.violations),
                  static_cast<unsigned long long>(r.trace_hash));
      if (!r.violations) continue;
      ++failed;
      std::printf(
          "VIOLATION: seed %llu, at t=%.9f s: %s\nreplay: build/bin/sim --scenario %s --balance %s --seed %llu%s\n",
          static_cast<unsigned long long>(seed), seconds(r.first_violation_at), r.first_violation.c_str(),
          o.scenario.c_str(), std::string(to_string(x.policy)).c_str(), static_cast<unsigned long long>(seed),
          o.duration_s ? (" --duration " + std::to_string(*o.duration_s)).c_str() : "");
    }
    for (const auto& v : bb::sim::cross_run_violations(runs)) {
      ++failed;
      std::printf("VIOLATION: seed %llu: %s\nreplay: build/bin/sim --scenario %s --balance all --seed %llu%s\n",
                  static_cast<unsigned long long>(seed), v.c_str(), o.scenario.c_str(),
                  static_cast<unsigned long long>(seed),
                  o.duration_s ? (" --duration " + std::to_string(*o.duration_s)).c_str() : "");
    }
    bb::sim::print_comparison(stdout, runs);
    worst.add(runs);
    if (seed == o.last) break;
  }
  if (o.sweep) worst.print(stdout, o.first, o.last);
  return failed ? 1 : 0;
}

/// Shrinks failing swarm run `sc` (its run `r`), prints the minimal case and the command
/// that replays it, and writes that case (--shrink-out, else shrunk-SEED.case).
void shrink_failure(const options& o, const bb::sim::scenario& sc, const bb::sim::report& r) {
  const auto invariant = bb::sim::invariant_of(r.first_violation);
  std::printf("shrink: seed %llu breaks %s; shrinking (at most %zu runs)\n", static_cast<unsigned long long>(sc.seed),
              invariant.c_str(), o.shrink_runs);
  std::fflush(stdout);
  bb::sim::shrink_options opt;
  opt.max_runs = o.shrink_runs;
  opt.progress = [](const std::string& line) { std::printf("%s\n", line.c_str()), std::fflush(stdout); };
  const auto res = bb::sim::shrink(sc, r, invariant, opt);
  const auto file = o.shrink_out.empty() ? "shrunk-" + std::to_string(sc.seed) + ".case" : o.shrink_out;
  try {
    bb::sim::save_case(file, res.minimal);
  } catch (const bb::sim::case_error& e) { usage(e.what()); }
  std::printf("shrink: %zu runs, %zu steps kept; faults %zu -> %zu; still: %s\n", res.runs, res.kept.size(),
              res.faults_before, res.faults_after, res.last.first_violation.c_str());
  std::printf("shrunk case:\n");
  for (auto& [k, v] : res.minimal.parameters())
    if (k != "allowed") std::printf("  %s: %s\n", k.c_str(), v.c_str());
  std::printf("  load: %.3f s\nreplay: build/bin/sim --case %s\n", seconds(res.minimal.length), file.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  if (o.list) {
    for (auto& [name, what] : bb::sim::scenario_list())
      std::printf("%-16s %s\n", std::string(name).c_str(), std::string(what).c_str());
    return 0;
  }
  std::optional<bb::sim::duration> length;
  if (o.duration_s) length = bb::sim::duration(static_cast<std::int64_t>(*o.duration_s * 1e9));
  if ((o.swarm || !o.case_file.empty()) && (o.all_policies || o.balance || length))
    usage("--swarm and --case set the policy and the duration themselves");
  if ((!o.save_case.empty() || !o.case_file.empty()) && o.first != o.last)
    usage("--case and --save-case are one run: give --seed, not --seeds");
  if (!o.save_case.empty() && !o.swarm && o.case_file.empty()) usage("--save-case writes swarm runs: add --swarm");
  if (o.all_policies) {
    if (!o.timeline.empty()) usage("--timeline draws one run: give a policy, not --balance all");
    return compare(o, length);
  }
  if (!o.timeline.empty() && o.first != o.last) usage("--timeline draws one run: give --seed, not --seeds");
  int failed = 0;
  for (std::uint64_t seed = o.first;; ++seed) {
    bb::sim::scenario sc;
    try {
      sc = !o.case_file.empty() ? bb::sim::load_case(o.case_file)
           : o.swarm            ? bb::sim::make_swarm_scenario(seed)
                                : bb::sim::make_scenario(o.scenario, seed, length, o.balance);
      if (!o.save_case.empty()) bb::sim::save_case(o.save_case, sc);
    } catch (const std::invalid_argument& e) { usage(e.what()); } catch (const bb::sim::case_error& e) {
      usage(e.what());
    }
    bb::sim::timeline tl;  // before the world, which calls into it until it is gone
    bb::sim::world w(sc);
    if (o.trace) w.tracer().set_sink([&w](const bb::sim::record& r) { print_trace(w.net(), r); });
    std::ofstream page;
    if (!o.timeline.empty()) {
      page.open(o.timeline, std::ios::binary | std::ios::trunc);
      if (!page) usage("--timeline: cannot write " + o.timeline);
      w.attach(tl);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = w.run();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.json) print_json(sc, r, wall);
    else if (o.sweep && o.swarm) {
      std::printf("seed %llu: %llu requests, %llu violations, trace hash: %016llx |",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(r.requests),
                  static_cast<unsigned long long>(r.violations), static_cast<unsigned long long>(r.trace_hash));
      for (auto& [k, v] : sc.parameters())
        if (k != "allowed") std::printf(" %s=%s", k.c_str(), v.c_str());
      std::printf("\n");
      if (r.violations) print_text(sc, r, wall);
    } else if (o.sweep)
      std::printf("seed %llu: %llu requests, %llu violations, trace hash: %016llx\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(r.requests),
                  static_cast<unsigned long long>(r.violations), static_cast<unsigned long long>(r.trace_hash));
    else print_text(sc, r, wall);
    if (!o.timeline.empty()) write_timeline(page, o, sc, tl);
    if (r.violations) {
      ++failed;
      if (!o.case_file.empty()) {
        std::printf("VIOLATION: at t=%.9f s: %s\nreplay: build/bin/sim --case %s\n", seconds(r.first_violation_at),
                    r.first_violation.c_str(), o.case_file.c_str());
        break;
      }
      if (o.swarm) {
        std::printf("VIOLATION: seed %llu, at t=%.9f s: %s\nreplay: build/bin/sim --swarm --seed %llu\n",
                    static_cast<unsigned long long>(seed), seconds(r.first_violation_at), r.first_violation.c_str(),
                    static_cast<unsigned long long>(seed));
        std::fflush(stdout);
        if (!o.no_shrink) shrink_failure(o, sc, r);
        if (seed == o.last) break;
        continue;
      }
      const std::string balance = o.balance ? " --balance " + std::string(to_string(*o.balance)) : "";
      std::printf("VIOLATION: seed %llu, at t=%.9f s: %s\nreplay: build/bin/sim --scenario %s%s --seed %llu%s\n",
                  static_cast<unsigned long long>(seed), seconds(r.first_violation_at), r.first_violation.c_str(),
                  sc.name.c_str(), balance.c_str(), static_cast<unsigned long long>(seed),
                  o.duration_s ? (" --duration " + std::to_string(*o.duration_s)).c_str() : "");
    }
    if (seed == o.last) break;
  }
  if (o.shrink && !failed)
    std::printf("shrink: seed %llu holds every invariant; nothing to shrink\n",
                static_cast<unsigned long long>(o.first));
  return failed ? 1 : 0;
}
