#pragma once
/// bb::balance_policy: the names of the balancing policies (`--balance NAME`), apart from
/// their implementations so that a configuration can name one without including them.

#include <optional>
#include <string_view>
#include <utility>

namespace bb {

/// The balancing policies, in the order of the `--balance` documentation.
enum class balance_policy { random, round_robin, least_requests, p2c, consistent_hash, peak_ewma };

/// The policy called `name` on the command line ("round-robin", ...); nullopt if unknown.
inline std::optional<balance_policy> parse_balance_policy(std::string_view name) noexcept {
  constexpr std::pair<std::string_view, balance_policy> names[] = {
      {"random", balance_policy::random},
      {"round-robin", balance_policy::round_robin},
      {"least-requests", balance_policy::least_requests},
      {"p2c", balance_policy::p2c},
      {"consistent-hash", balance_policy::consistent_hash},
      {"peak-ewma", balance_policy::peak_ewma},
  };
  for (const auto& [text, p] : names)
    if (text == name) return p;
  return std::nullopt;
}

/// The command-line name of a policy.
inline std::string_view to_string(balance_policy p) noexcept {
  switch (p) {
    case balance_policy::random: return "random";
    case balance_policy::round_robin: return "round-robin";
    case balance_policy::least_requests: return "least-requests";
    case balance_policy::p2c: return "p2c";
    case balance_policy::consistent_hash: return "consistent-hash";
    case balance_policy::peak_ewma: return "peak-ewma";
  }
  return "?";
}

}  // namespace bb
