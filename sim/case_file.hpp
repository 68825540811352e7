#pragma once
/// bb::sim case files: a swarm run's scenario as text, so that `sim --case FILE` replays
/// exactly the run `sim --swarm --seed N --save-case FILE` drew (or a shrunk one).
///
/// One `key value` per line; `#` starts a comment line. Durations are whole numbers with
/// a unit (`ns`, `us`, `ms`, `s`), fractions are written with 15 significant digits, or 17
/// where 15 would not read back bit for bit. An upstream is one line (`upstream NAME kind=... weight=...`)
/// and so is a fault (`fault AT KIND UPSTREAM [amount=N] [plan=KINDS,RATE,MAX_DELAY]`), in
/// time order. The seed stays in the file: the world draws latencies and service times
/// from it, so the same file gives the same trace hash.

#include <algorithm>
#include <bb/lb/balance_policy.hpp>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>
#include <sim/scenario.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bb::sim {

/// A case file that cannot be read: its message starts with `file:line: key:` (`file: key:`
/// for a key that is missing).
struct case_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {

inline std::string case_duration(duration d) {
  const auto n = d.count();
  if (n % 1'000'000'000 == 0) return std::to_string(n / 1'000'000'000) + "s";
  if (n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "ms";
  if (n % 1'000 == 0) return std::to_string(n / 1'000) + "us";
  return std::to_string(n) + "ns";
}

inline std::string case_double(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", x);  // the short form when it reads back exactly
  if (std::strtod(buf, nullptr) != x) std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/// The reader of one file: each value parser throws case_error naming the line and key.
struct case_reader {
  std::string file;
  std::size_t line = 0;
  std::string key;

  [[noreturn]] void fail(const std::string& why) const {
    throw case_error(file + (line ? ":" + std::to_string(line) : std::string()) + ": " + key + ": " + why);
  }
  std::uint64_t whole(std::string_view t) const {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || p != t.data() + t.size() || t.empty())
      fail("expected a whole number, got '" + std::string(t) + "'");
    return v;
  }
  double fraction(std::string_view t) const {
    const std::string s(t);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !(v >= 0)) fail("expected a number >= 0, got '" + s + "'");
    return v;
  }
  duration span(std::string_view t) const {
    constexpr std::pair<std::string_view, std::int64_t> units[] = {
        {"ns", 1}, {"us", 1'000}, {"ms", 1'000'000}, {"s", 1'000'000'000}};
    for (const auto& [suffix, scale] : units)
      if (t.size() > suffix.size() && t.ends_with(suffix) &&
          (suffix != "s" || !std::isalpha(static_cast<unsigned char>(t[t.size() - 2]))))
        return duration(static_cast<std::int64_t>(whole(t.substr(0, t.size() - suffix.size()))) * scale);
    fail("expected a duration such as 250ms or 3s, got '" + std::string(t) + "'");
  }
  template <class Enum, std::size_t N>
  Enum named(std::string_view t, const std::string_view (&names)[N]) const {
    for (std::size_t i = 0; i < N; ++i)
      if (names[i] == t) return static_cast<Enum>(i);
    std::string all;
    for (auto n : names) all += (all.empty() ? "" : ", ") + std::string(n);
    fail("expected one of " + all + ", got '" + std::string(t) + "'");
  }
};

constexpr std::string_view behaviour_names[] = {"echo", "always_500", "slow", "hang", "half_then_close"};
constexpr std::string_view fault_names[] = {"crash", "restart",         "answer_500", "slow_down", "misbehave",
                                            "hang",  "half_then_close", "partition",  "pause",     "throttle",
                                            "heal"};
constexpr std::string_view algorithm_names[] = {"fixed_window", "sliding_window", "gcra"};
constexpr std::string_view outcome_names[] = {"ok", "server_error", "client_error", "conn_error", "timeout"};

inline std::vector<std::string_view> case_words(std::string_view s) {
  std::vector<std::string_view> w;
  while (!s.empty()) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) break;
    s.remove_prefix(b);
    const auto e = s.find_first_of(" \t");
    w.push_back(s.substr(0, e));
    if (e == std::string_view::npos) break;
    s.remove_prefix(e);
  }
  return w;
}

inline std::string case_plan(const misbehaviour& m) {
  return std::to_string(m.kinds) + "," + case_double(m.rate) + "," + case_duration(m.max_delay);
}

inline misbehaviour read_plan(const case_reader& r, std::string_view t) {
  const auto a = t.find(','), b = t.find(',', a == std::string_view::npos ? a : a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) r.fail("expected KINDS,RATE,MAX_DELAY");
  misbehaviour m;
  m.kinds = static_cast<std::uint8_t>(r.whole(t.substr(0, a)));
  m.rate = r.fraction(t.substr(a + 1, b - a - 1));
  m.max_delay = r.span(t.substr(b + 1));
  return m;
}

}  // namespace detail

/// Writes swarm scenario `sc` as a case file; throws std::invalid_argument for a scenario
/// a case cannot hold (not a swarm run, or with a rate, balancing or flap setup).
inline void write_case(std::ostream& out, const scenario& sc) {
  using detail::case_double;
  using detail::case_duration;
  if (!sc.swarm || sc.rate || sc.balancing || sc.flap_target || !sc.through_proxy)
    throw std::invalid_argument("a case file holds swarm runs only");
  const auto& c = sc.clients;
  const auto& w = *sc.swarm;
  out << "# balancebeam sim case: build/bin/sim --case FILE replays it\n";
  out << "name " << sc.name << "\nseed " << sc.seed << "\nlength " << case_duration(sc.length) << "\n";
  out << "balance " << to_string(sc.balance) << "\nhealth_interval_s " << sc.health_interval_s << "\n";
  std::string allowed;
  for (auto o : sc.allowed) allowed += (allowed.empty() ? "" : ",") + std::string(to_string(o));
  out << "allowed " << allowed << "\n";
  for (const auto& u : sc.upstreams)
    out << "upstream " << u.name << " kind=" << to_string(u.kind) << " slow_mean=" << case_duration(u.slow_mean)
        << " workers=" << u.workers << " weight=" << u.weight << " unsolicited=" << detail::case_plan(u.unsolicited)
        << "\n";
  out << "proxy_workers " << sc.proxy_workers << "\n";
  out << "client_hosts " << sc.client_hosts << "\n";
  out << "clients.rate " << case_double(c.rate) << "\nclients.closed_users " << c.closed_users
      << "\nclients.think_mean " << case_duration(c.think_mean) << "\nclients.max_conns " << c.max_conns
      << "\nclients.pipeline " << c.pipeline << "\nclients.max_requests_per_conn " << c.max_requests_per_conn
      << "\nclients.idle_close " << case_duration(c.idle_close) << "\nclients.request_timeout "
      << case_duration(c.request_timeout) << "\nclients.connect_timeout " << case_duration(c.connect_timeout)
      << "\nclients.post_fraction " << case_double(c.post_fraction) << "\nclients.max_body " << c.max_body
      << "\nclients.head_fraction " << case_double(c.head_fraction) << "\nclients.slow_upload_fraction "
      << case_double(c.slow_upload_fraction) << "\nclients.upload_pause " << case_duration(c.upload_pause)
      << "\nclients.bare_post_fraction " << case_double(c.bare_post_fraction) << "\nclients.slow_read_fraction "
      << case_double(c.slow_read_fraction) << "\nclients.read_pause " << case_duration(c.read_pause)
      << "\nclients.receive_window " << c.receive_window << "\n";
  out << "swarm.rise " << w.rise << "\nswarm.fall " << w.fall << "\nswarm.check_timeout "
      << case_duration(w.check_timeout) << "\nswarm.connect_timeout " << case_duration(w.connect_timeout)
      << "\nswarm.response_timeout " << case_duration(w.response_timeout) << "\nswarm.passive_backoff "
      << case_duration(w.passive_backoff) << "\nswarm.passive_backoff_max " << case_duration(w.passive_backoff_max)
      << "\nswarm.pool_size " << w.pool_size << "\nswarm.rate_limit " << w.rate_limit << "\nswarm.algorithm "
      << to_string(w.algorithm) << "\nswarm.rate_window " << case_duration(w.rate_window) << "\nswarm.heal_at "
      << case_duration(w.heal_at) << "\nswarm.liveness_bound " << case_duration(w.liveness_bound) << "\n";
  for (const auto& f : sc.faults) {
    out << "fault " << case_duration(f.at) << " " << to_string(f.what) << " " << sc.upstreams.at(f.target).name;
    if (f.what == fault::kind::throttle) out << " amount=" << f.amount;
    if (f.what == fault::kind::misbehave) out << " plan=" << detail::case_plan(f.plan);
    out << "\n";
  }
}

/// Reads the swarm scenario a case file holds; `file` names it in errors, which are
/// case_errors starting with `file:line: key:` (unknown, repeated or missing keys, bad values).
inline scenario read_case(std::istream& in, const std::string& file) {
  using detail::case_reader;
  scenario sc;
  sc.swarm.emplace();
  auto& c = sc.clients;
  auto& w = *sc.swarm;
  case_reader r{file, 0, {}};
  using setter = std::function<void(std::string_view)>;
  auto whole = [&r](auto& field) {
    return setter([&r, &field](std::string_view t) {
      field = static_cast<std::remove_reference_t<decltype(field)>>(r.whole(t));
    });
  };
  auto span = [&r](duration& field) { return setter([&r, &field](std::string_view t) { field = r.span(t); }); };
  auto fraction = [&r](double& field) { return setter([&r, &field](std::string_view t) { field = r.fraction(t); }); };
  std::map<std::string, setter, std::less<>> scalars = {
      {"name", [&](std::string_view t) { sc.name = std::string(t); }},
      {"seed", whole(sc.seed)},
      {"length", span(sc.length)},
      {"balance",
       [&](std::string_view t) {
         const auto p = parse_balance_policy(t);
         if (!p) r.fail("unknown policy '" + std::string(t) + "'");
         sc.balance = *p;
       }},
      {"health_interval_s", whole(sc.health_interval_s)},
      {"allowed",
       [&](std::string_view t) {
         sc.allowed.clear();
         for (std::size_t b = 0; b <= t.size();) {
           const auto e = std::min(t.find(',', b), t.size());
           sc.allowed.push_back(r.named<outcome>(t.substr(b, e - b), detail::outcome_names));
           b = e + 1;
         }
       }},
      {"proxy_workers",
       [&](std::string_view t) {
         sc.proxy_workers = r.whole(t);
         if (sc.proxy_workers == 0) r.fail("at least 1 expected");
       }},
      {"client_hosts", whole(sc.client_hosts)},
      {"clients.rate", fraction(c.rate)},
      {"clients.closed_users", whole(c.closed_users)},
      {"clients.think_mean", span(c.think_mean)},
      {"clients.max_conns", whole(c.max_conns)},
      {"clients.pipeline", whole(c.pipeline)},
      {"clients.max_requests_per_conn", whole(c.max_requests_per_conn)},
      {"clients.idle_close", span(c.idle_close)},
      {"clients.request_timeout", span(c.request_timeout)},
      {"clients.connect_timeout", span(c.connect_timeout)},
      {"clients.post_fraction", fraction(c.post_fraction)},
      {"clients.max_body", whole(c.max_body)},
      {"clients.head_fraction", fraction(c.head_fraction)},
      {"clients.slow_upload_fraction", fraction(c.slow_upload_fraction)},
      {"clients.upload_pause", span(c.upload_pause)},
      {"clients.bare_post_fraction", fraction(c.bare_post_fraction)},
      {"clients.slow_read_fraction", fraction(c.slow_read_fraction)},
      {"clients.read_pause", span(c.read_pause)},
      {"clients.receive_window", whole(c.receive_window)},
      {"swarm.rise", whole(w.rise)},
      {"swarm.fall", whole(w.fall)},
      {"swarm.check_timeout", span(w.check_timeout)},
      {"swarm.connect_timeout", span(w.connect_timeout)},
      {"swarm.response_timeout", span(w.response_timeout)},
      {"swarm.passive_backoff", span(w.passive_backoff)},
      {"swarm.passive_backoff_max", span(w.passive_backoff_max)},
      {"swarm.pool_size", whole(w.pool_size)},
      {"swarm.rate_limit", whole(w.rate_limit)},
      {"swarm.algorithm",
       [&](std::string_view t) { w.algorithm = r.named<rate_limit_algorithm>(t, detail::algorithm_names); }},
      {"swarm.rate_window", span(w.rate_window)},
      {"swarm.heal_at", span(w.heal_at)},
      {"swarm.liveness_bound", span(w.liveness_bound)},
  };
  std::map<std::string, std::size_t, std::less<>> seen;
  struct pending_fault {
    fault f;
    std::string target;
    std::size_t line;
  };
  std::vector<pending_fault> faults;
  std::string text;
  while (std::getline(in, text)) {
    ++r.line;
    const auto words = detail::case_words(text);
    if (words.empty() || words[0].starts_with('#')) continue;
    r.key = std::string(words[0]);
    if (words.size() < 2) r.fail("no value");
    if (r.key == "upstream") {
      upstream_spec u{std::string(words[1])};
      for (const auto& up : sc.upstreams)
        if (up.name == u.name) r.fail("upstream " + u.name + " named twice");
      for (std::size_t i = 2; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        const auto k = words[i].substr(0, eq),
                   v = eq == std::string_view::npos ? std::string_view{} : words[i].substr(eq + 1);
        if (k == "kind") u.kind = r.named<behaviour>(v, detail::behaviour_names);
        else if (k == "slow_mean") u.slow_mean = r.span(v);
        else if (k == "workers") u.workers = r.whole(v);
        else if (k == "weight") u.weight = static_cast<std::uint32_t>(r.whole(v));
        else if (k == "unsolicited") u.unsolicited = detail::read_plan(r, v);
        else r.fail("unknown upstream field '" + std::string(k) + "'");
      }
      sc.upstreams.push_back(std::move(u));
    } else if (r.key == "fault") {
      if (words.size() < 4) r.fail("expected AT KIND UPSTREAM");
      pending_fault p{
          {r.named<fault::kind>(words[2], detail::fault_names), 0, r.span(words[1])}, std::string(words[3]), r.line};
      if (!faults.empty() && p.f.at < faults.back().f.at) r.fail("faults out of time order");
      for (std::size_t i = 4; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        const auto k = words[i].substr(0, eq),
                   v = eq == std::string_view::npos ? std::string_view{} : words[i].substr(eq + 1);
        if (k == "amount") p.f.amount = r.whole(v);
        else if (k == "plan") p.f.plan = detail::read_plan(r, v);
        else r.fail("unknown fault field '" + std::string(k) + "'");
      }
      faults.push_back(std::move(p));
    } else {
      const auto s = scalars.find(r.key);
      if (s == scalars.end()) r.fail("unknown key");
      if (words.size() > 2) r.fail("one value expected");
      if (seen.contains(r.key)) r.fail("given twice (first on line " + std::to_string(seen[r.key]) + ")");
      seen[r.key] = r.line;
      s->second(words[1]);
    }
  }
  r.line = 0, r.key = "upstream";
  if (sc.upstreams.empty()) r.fail("missing");
  for (auto& p : faults) {
    r.line = p.line, r.key = "fault";
    std::size_t i = 0;
    while (i < sc.upstreams.size() && sc.upstreams[i].name != p.target) ++i;
    if (i == sc.upstreams.size()) r.fail("no upstream named " + p.target);
    p.f.target = i;
    sc.faults.push_back(p.f);
  }
  for (const auto& [k, set] : scalars)
    if (!seen.contains(k)) r.line = 0, r.key = k, r.fail("missing");
  return sc;
}

/// Writes `sc` to the case file at `path`; throws case_error when it cannot.
inline void save_case(const std::string& path, const scenario& sc) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) write_case(f, sc);
  f.close();
  if (!f) throw case_error(path + ": cannot write");
}

/// The scenario of the case file at `path`; throws case_error when it cannot be read.
inline scenario load_case(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw case_error(path + ": cannot open");
  return read_case(f, path);
}

}  // namespace bb::sim
