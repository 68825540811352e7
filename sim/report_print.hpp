#pragma once
/// The sim program's reports of a run: as text, as one JSON object, and a trace record per line.

#include <cstdint>
#include <cstdio>
#include <sim/balance_table.hpp>
#include <sim/network.hpp>
#include <sim/scenario.hpp>
#include <sim/timeline_html.hpp>
#include <sim/trace.hpp>
#include <sim/world.hpp>
#include <string>

namespace bb::sim {

/// Prints trace record `r` as one line (time, kind, both ends by name, x, y).
inline void print_trace(const network& net, const record& r) {
  auto name = [&](std::uint32_t id) { return std::string(net.name_of(id)); };
  std::printf("%.9f %s %s %s x=%llu y=%llu\n", detail::seconds(r.t), std::string(to_string(r.kind)).c_str(),
              name(r.a).c_str(), name(r.b).c_str(), static_cast<unsigned long long>(r.x),
              static_cast<unsigned long long>(r.y));
}

/// Prints run `r` of `sc` as text: the parameters, outcomes, figures, tallies and trace hash.
inline void print_text(const scenario& sc, const report& r, double wall) {
  std::printf("scenario: %s\nseed: %llu\n", sc.name.c_str(), static_cast<unsigned long long>(sc.seed));
  for (auto& [k, v] : sc.parameters()) std::printf("  %s: %s\n", k.c_str(), v.c_str());
  std::printf("virtual duration: %.3f s (load for %.3f s)\n", detail::seconds(r.virtual_time),
              detail::seconds(sc.length));
  std::printf("wall time: %.3f s\n", wall);
  std::printf("speed: %.0f virtual s per wall s, %.0f simulated requests per wall s\n",
              detail::seconds(r.virtual_time) / wall, static_cast<double>(r.requests) / wall);
  std::printf("requests: %llu", static_cast<unsigned long long>(r.requests));
  for (std::size_t i = 0; i < outcome_count; ++i)
    std::printf(" %s=%llu", std::string(to_string(static_cast<outcome>(i))).c_str(),
                static_cast<unsigned long long>(r.by_outcome[i]));
  std::printf("\nclient connections: %llu\n", static_cast<unsigned long long>(r.client_connections));
  std::printf("events processed: %llu (trace records: %llu)\n", static_cast<unsigned long long>(r.events),
              static_cast<unsigned long long>(r.trace_records));
  std::printf("invariants: %llu checked, %llu violated\n", static_cast<unsigned long long>(r.checks),
              static_cast<unsigned long long>(r.violations));
  for (const auto& f : r.figures) {
    if (f.samples == 0) continue;
    std::printf("%s %.3f s (max over %llu", f.name.c_str(), detail::seconds(f.max),
                static_cast<unsigned long long>(f.samples));
    if (f.bound.count() > 0) std::printf(", bound %.3f s", detail::seconds(f.bound));
    std::printf(")\n");
  }
  for (const auto& [name, n] : r.tallies)
    if (n) std::printf("%s: %llu\n", name.c_str(), static_cast<unsigned long long>(n));
  if (r.balance) print_balance(stdout, *r.balance);
  std::printf("trace hash: %016llx\n", static_cast<unsigned long long>(r.trace_hash));
}

/// Prints run `r` of `sc` as one JSON object.
inline void print_json(const scenario& sc, const report& r, double wall) {
  std::printf("{\"scenario\":\"%s\",\"seed\":%llu,\"parameters\":{", sc.name.c_str(),
              static_cast<unsigned long long>(sc.seed));
  bool first = true;
  for (auto& [k, v] : sc.parameters())
    std::printf("%s\"%s\":\"%s\"", first ? "" : ",", k.c_str(), v.c_str()), first = false;
  std::printf("},\"virtual_s\":%.9f,\"wall_s\":%.6f,\"requests\":%llu,\"outcomes\":{", detail::seconds(r.virtual_time),
              wall, static_cast<unsigned long long>(r.requests));
  for (std::size_t i = 0; i < outcome_count; ++i)
    std::printf("%s\"%s\":%llu", i ? "," : "", std::string(to_string(static_cast<outcome>(i))).c_str(),
                static_cast<unsigned long long>(r.by_outcome[i]));
  std::printf("},\"figures\":[");
  first = true;
  for (const auto& f : r.figures) {
    if (f.samples == 0) continue;
    std::printf("%s{\"name\":\"%s\",\"max_s\":%.6f,\"samples\":%llu,\"bound_s\":%.6f}", first ? "" : ",",
                f.name.c_str(), detail::seconds(f.max), static_cast<unsigned long long>(f.samples),
                detail::seconds(f.bound));
    first = false;
  }
  std::printf("],\"tallies\":{");
  first = true;
  for (const auto& [name, n] : r.tallies)
    std::printf("%s\"%s\":%llu", first ? "" : ",", name.c_str(), static_cast<unsigned long long>(n)), first = false;
  std::printf("}");
  if (r.balance) {
    const auto& b = *r.balance;
    std::printf(
        ",\"balance\":{\"policy\":\"%s\",\"p50_s\":%.6f,\"p99_s\":%.6f,\"latency_samples\":%llu,\"upstreams\":[",
        std::string(to_string(b.policy)).c_str(), detail::seconds(b.p50), detail::seconds(b.p99),
        static_cast<unsigned long long>(b.samples));
    for (std::size_t i = 0; i < b.names.size(); ++i)
      std::printf("%s{\"name\":\"%s\",\"weight\":%u,\"requests\":%llu,\"after_event\":%llu,\"after_settle\":%llu}",
                  i ? "," : "", b.names[i].c_str(), b.weights[i], static_cast<unsigned long long>(b.total[i]),
                  static_cast<unsigned long long>(b.after[i]), static_cast<unsigned long long>(b.settled[i]));
    std::printf("]}");
  }
  std::printf(",\"events\":%llu,\"checks\":%llu,\"violations\":%llu,\"trace_hash\":\"%016llx\"}\n",
              static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.checks),
              static_cast<unsigned long long>(r.violations), static_cast<unsigned long long>(r.trace_hash));
}

}  // namespace bb::sim
