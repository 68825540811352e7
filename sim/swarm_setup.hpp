#pragma once
/// bb::sim::swarm_setup: the proxy settings and phases a swarm run draws, beyond what
/// every scenario has (sim/swarm.hpp draws them; the world applies them).

#include <bb/limit/decision.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sim/clock.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bb::sim {

/// What a swarm seed decided about the proxy, and when its faults end.
struct swarm_setup {
  std::uint32_t rise = 1;           ///< checks passed to bring a host up
  std::uint32_t fall = 1;           ///< checks failed to take it down
  duration check_timeout{0};        ///< one active check's timeout (0: the checker's default)
  duration connect_timeout{0};      ///< the proxy's upstream connect timeout
  duration response_timeout{0};     ///< the proxy's upstream response timeout
  duration passive_backoff{0};      ///< the first backoff of a dead host (active checks off)
  duration passive_backoff_max{0};  ///< the backoff's cap
  std::size_t pool_size = 64;       ///< idle pooled connections per upstream
  std::uint32_t rate_limit = 0;     ///< requests per window per client IP (0: none)
  rate_limit_algorithm algorithm = rate_limit_algorithm::fixed_window;
  duration rate_window = std::chrono::minutes(1);
  duration heal_at{0};         ///< every fault is healed at this time
  duration liveness_bound{0};  ///< from heal_at: every host up and every request a success

  /// Every drawn value as (name, value) text, for the run's report.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> parameters() const {
    auto ms = [](duration d) { return std::to_string(d.count() / 1'000'000) + "ms"; };
    constexpr const char* algorithms[] = {"fixed-window", "sliding-window", "gcra"};
    std::vector<std::pair<std::string, std::string>> p;
    p.emplace_back("rise_fall", std::to_string(rise) + "/" + std::to_string(fall));
    p.emplace_back("check_timeout", check_timeout.count() ? ms(check_timeout) : "default");
    p.emplace_back("connect_timeout", ms(connect_timeout));
    p.emplace_back("response_timeout", ms(response_timeout));
    p.emplace_back("passive_backoff", ms(passive_backoff) + " up to " + ms(passive_backoff_max));
    p.emplace_back("pool_size", std::to_string(pool_size));
    p.emplace_back("rate_limit", rate_limit ? std::to_string(rate_limit) + " per " + ms(rate_window) + " " +
                                                  algorithms[static_cast<int>(algorithm)]
                                            : "none");
    p.emplace_back("heal_at", ms(heal_at));
    p.emplace_back("liveness_bound", ms(liveness_bound));
    return p;
  }
};

}  // namespace bb::sim
