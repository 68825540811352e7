#pragma once
/// The three algorithms as Lua scripts for stock Redis (7 and later), and how a call to
/// one is written and its reply read.
///
/// Each script decides one request of one client atomically: it reads the client's key,
/// decides exactly as the C++ algorithm of the same name (fixed_window.hpp,
/// sliding_window.hpp, gcra.hpp), writes the key back only when the request is admitted
/// (a refusal changes no state) and sets its expiry to the moment the state stops
/// mattering, so an idle client costs Redis nothing. The time is Redis's own TIME, one
/// clock for every proxy, unless a test feeds one in.
///
/// Units: Lua numbers are doubles, and nanoseconds since 1970 do not fit their 53 bits, so
/// the scripts count microseconds: the same integer arithmetic as the C++ algorithms with
/// the microsecond as the unit (GCRA's emission interval is period / count truncated to
/// whole microseconds rather than nanoseconds). redis_script_params refuses parameters whose
/// products would pass 2^52 microseconds, where doubles stop being exact.
///
/// Call: EVALSHA sha 1 key p1 p2 quantity now_us, with (p1, p2) = (limit, window_us) for
/// the windows and (emission_us, max_burst + 1) for GCRA, quantity 1 for a request (GCRA
/// reads it; CL.THROTTLE's quantity), and now_us empty for Redis TIME. Reply: {admitted 0|1,
/// limit, remaining, retry_after_us or -1, reset_after_us}.
///
/// Keys: prefix + algorithm + ":" + client, e.g. `bb:rl:gcra:203.0.113.7` (a string: the
/// TAT in microseconds since 1970) or `bb:rl:fixed-window:2001:db8:0:1::` (a hash: w, the
/// window's index, c its count; the sliding window adds p, the previous window's count).

#include <bb/core/client_key.hpp>
#include <bb/core/net.hpp>
#include <bb/limit/config.hpp>
#include <bb/limit/decision.hpp>
#include <bb/redis/command.hpp>
#include <bb/redis/reply.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bb {

namespace detail {
// NOTE: the same for all three: the time fed in for tests, else Redis's own.
#define BB_REDIS_NOW                                                   \
  "local now\n"                                                        \
  "if ARGV[4] ~= nil and ARGV[4] ~= '' then now = tonumber(ARGV[4])\n" \
  "else local t = redis.call('TIME'); now = tonumber(t[1]) * 1000000 + tonumber(t[2]) end\n"

inline constexpr std::string_view gcra_script =
    "-- balancebeam gcra: redis-cell's CL.THROTTLE; the key holds the TAT in microseconds\n"
    "local key = KEYS[1]\n"
    "local emission = tonumber(ARGV[1])\n"
    "local limit = tonumber(ARGV[2])\n"
    "local quantity = tonumber(ARGV[3])\n" BB_REDIS_NOW
    "local tau = emission * limit\n"
    "local tat = now\n"
    "local stored = tonumber(redis.call('GET', key))\n"
    "if stored and stored > now then tat = stored end\n"
    "local ttl = tat - now\n"
    "local allowed = 0\n"
    "local retry = -1\n"
    "if quantity <= limit then\n"
    "  local new_tat = tat + emission * quantity\n"
    "  local diff = now - (new_tat - tau)\n"
    "  if diff < 0 then\n"
    "    retry = -diff\n"
    "  else\n"
    "    allowed = 1\n"
    "    ttl = new_tat - now\n"
    "    if ttl > 0 then redis.call('SET', key, string.format('%d', new_tat), 'PX', math.ceil(ttl / 1000)) end\n"
    "  end\n"
    "end\n"
    "local nxt = tau - ttl\n"
    "local remaining = 0\n"
    "if nxt > -emission then remaining = math.max(math.floor(nxt / emission), 0) end\n"
    "return {allowed, limit, remaining, retry, ttl}\n";

inline constexpr std::string_view fixed_window_script =
    "-- balancebeam fixed-window: N per aligned window; the key is a hash {w, c}\n"
    "local key = KEYS[1]\n"
    "local limit = tonumber(ARGV[1])\n"
    "local window = tonumber(ARGV[2])\n" BB_REDIS_NOW
    "local index = math.floor(now / window)\n"
    "local v = redis.call('HMGET', key, 'w', 'c')\n"
    "local w = tonumber(v[1])\n"
    "local c = tonumber(v[2]) or 0\n"
    "if w == nil or index > w then w = index; c = 0 end\n"
    "local reset = (w + 1) * window - now\n"
    "if c < limit then\n"
    "  c = c + 1\n"
    "  redis.call('HSET', key, 'w', string.format('%d', w), 'c', string.format('%d', c))\n"
    "  redis.call('PEXPIRE', key, math.ceil(reset / 1000))\n"
    "  return {1, limit, limit - c, -1, reset}\n"
    "end\n"
    "return {0, limit, 0, reset, reset}\n";

inline constexpr std::string_view sliding_window_script =
    "-- balancebeam sliding-window: previous * (W - elapsed) / W + current < N; the key is a hash {w, p, c}\n"
    "local key = KEYS[1]\n"
    "local limit = tonumber(ARGV[1])\n"
    "local window = tonumber(ARGV[2])\n" BB_REDIS_NOW
    "local index = math.floor(now / window)\n"
    "local v = redis.call('HMGET', key, 'w', 'p', 'c')\n"
    "local w = tonumber(v[1])\n"
    "local p = tonumber(v[2]) or 0\n"
    "local c = tonumber(v[3]) or 0\n"
    "if w == nil then w = index; p = 0; c = 0\n"
    "elseif index > w then\n"
    "  if index == w + 1 then p = c else p = 0 end\n"
    "  c = 0; w = index\n"
    "end\n"
    "local start = w * window\n"
    "local elapsed = math.max(now - start, 0)\n"
    "local carried = math.floor(p * (window - elapsed) / window)\n"
    "local allowed, remaining, retry = 0, 0, -1\n"
    "if c + carried < limit then\n"
    "  c = c + 1\n"
    "  allowed = 1\n"
    "  remaining = limit - math.min(limit, c + carried)\n"
    "else\n"
    "  local from\n"
    "  if c < limit then from = window - math.min(math.floor(((limit - c) * window - 1) / p), window)\n"
    "  else from = 2 * window - math.min(math.floor((limit * window - 1) / c), window) end\n"
    "  retry = start + from - now\n"
    "end\n"
    "local windows = 0\n"
    "if c > 0 then windows = 2 elseif p > 0 then windows = 1 end\n"
    "local reset = (w + windows) * window - now\n"
    "if allowed == 1 then\n"
    "  redis.call('HSET', key, 'w', string.format('%d', w), 'p', string.format('%d', p), 'c', string.format('%d', c))\n"
    "  redis.call('PEXPIRE', key, math.ceil(reset / 1000))\n"
    "end\n"
    "return {allowed, limit, remaining, retry, reset}\n";

#undef BB_REDIS_NOW
}  // namespace detail

/// The Lua text of `a`'s script.
constexpr std::string_view redis_script(rate_limit_algorithm a) noexcept {
  switch (a) {
    case rate_limit_algorithm::sliding_window: return detail::sliding_window_script;
    case rate_limit_algorithm::gcra: return detail::gcra_script;
    case rate_limit_algorithm::fixed_window: break;
  }
  return detail::fixed_window_script;
}

/// The algorithm's name as keys and flags spell it.
constexpr std::string_view redis_key_word(rate_limit_algorithm a) noexcept {
  switch (a) {
    case rate_limit_algorithm::sliding_window: return "sliding-window";
    case rate_limit_algorithm::gcra: return "gcra";
    case rate_limit_algorithm::fixed_window: break;
  }
  return "fixed-window";
}

/// A script's two parameters, in microseconds where they are durations.
struct redis_script_params {
  std::int64_t p1 = 0;  ///< windows: the limit; gcra: the emission interval in microseconds
  std::int64_t p2 = 0;  ///< windows: the window in microseconds; gcra: max_burst + 1

  /// The parameters for `c`; throws std::invalid_argument when the scripts could not
  /// compute them exactly (products past 2^52 microseconds) or the algorithm rejects them.
  static redis_script_params of(const rate_limit_config& c) {
    constexpr std::int64_t exact = std::int64_t{1} << 52;
    const std::int64_t window_us = std::chrono::duration_cast<std::chrono::microseconds>(c.window).count();
    const std::int64_t limit = c.limit;
    if (limit <= 0 || window_us <= 0) throw std::invalid_argument("redis store: the limit and window must be positive");
    if (c.algorithm == rate_limit_algorithm::gcra) {
      const std::int64_t emission = window_us / limit;
      const std::int64_t burst = c.effective_burst();
      if (emission == 0)
        throw std::invalid_argument("redis store: gcra's emission interval (window / limit) is under 1 us");
      if (burst < 0 || burst + 1 > exact / emission)
        throw std::invalid_argument(
            "redis store: gcra's tolerance (burst + 1) * window / limit is too long to compute exactly");
      return {emission, burst + 1};
    }
    if (limit > exact / window_us)
      throw std::invalid_argument(
          "redis store: limit * window in microseconds passes 2^52, too large to compute exactly");
    return {limit, window_us};
  }
};

/// The key of client `k` under `prefix` for algorithm `a`: prefix + algorithm + ":" +
/// the client's address (IPv4 dotted, IPv6 as its masked address).
inline std::string redis_key(std::string_view prefix, rate_limit_algorithm a, const client_key& k) {
  ip_address ip;
  if (k.hi == 0 && (k.lo >> 32) == 0xffff) {
    ip = ip_address::v4(static_cast<std::uint8_t>(k.lo >> 24), static_cast<std::uint8_t>(k.lo >> 16),
                        static_cast<std::uint8_t>(k.lo >> 8), static_cast<std::uint8_t>(k.lo));
  } else {
    ip.v6 = true;
    for (int i = 0; i < 8; ++i) {
      ip.bytes[i] = static_cast<std::uint8_t>(k.hi >> (56 - 8 * i));
      ip.bytes[8 + i] = static_cast<std::uint8_t>(k.lo >> (56 - 8 * i));
    }
  }
  std::string key;
  key.reserve(prefix.size() + 16 + 46);
  key.append(prefix).append(redis_key_word(a)).push_back(':');
  char buf[48];
  key.append(buf, ip.format(buf));
  return key;
}

/// Appends `EVALSHA sha 1 key p1 p2 quantity now` (or, with `eval`, `EVAL script ...`,
/// which also puts the script back in the server's cache). `now_us` empty: Redis TIME.
inline void append_script_call(std::string& out, bool eval, std::string_view sha_or_script, std::string_view key,
                               const redis_script_params& p, std::int64_t quantity = 1,
                               std::optional<std::int64_t> now_us = std::nullopt) {
  redis::append_array_header(out, 8);
  redis::append_bulk(out, eval ? std::string_view("EVAL") : std::string_view("EVALSHA"));
  redis::append_bulk(out, sha_or_script);
  redis::append_bulk(out, std::string_view("1"));
  redis::append_bulk(out, key);
  redis::append_bulk(out, p.p1);
  redis::append_bulk(out, p.p2);
  redis::append_bulk(out, quantity);
  if (now_us) redis::append_bulk(out, *now_us);
  else redis::append_bulk(out, std::string_view());
}

/// The decision a script's reply stands for (microseconds become nanoseconds); nullopt
/// when the reply is not the five integers a script returns.
inline std::optional<rate_decision> decision_of(const redis::reply& r) {
  if (r.type != redis::reply::kind::array || r.elements.size() != 5) return std::nullopt;
  for (const auto& e : r.elements)
    if (e.type != redis::reply::kind::integer) return std::nullopt;
  const auto& e = r.elements;
  if (e[1].integer < 0 || e[2].integer < 0 || e[1].integer > 0xffffffffLL || e[2].integer > 0xffffffffLL)
    return std::nullopt;
  auto ns = [](std::int64_t us) { return us < 0 ? std::int64_t{-1} : us * 1000; };
  rate_decision d;
  d.allowed = e[0].integer == 1;
  d.limit = static_cast<std::uint32_t>(e[1].integer);
  d.remaining = static_cast<std::uint32_t>(e[2].integer);
  d.retry_after_ns = ns(e[3].integer);
  d.reset_after_ns = e[4].integer * 1000;
  return d;
}

}  // namespace bb
