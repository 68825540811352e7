#pragma once
// A tiny Redis on the simulated network, for tests of the Redis client and limiter over
// sim::transport and sim::virtual_clock: RESP2 commands in, replies out in order; AUTH,
// SELECT, PING, SCRIPT LOAD / FLUSH, and EVALSHA / EVAL of the gcra script decided with
// bb::gcra in microseconds on its host's clock (what the real script computes). It can be
// made slow (a delay before each reply) and can lose its scripts; crash its host to kill it.

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/limit/gcra.hpp>
#include <sim/clock.hpp>
#include <sim/network.hpp>
#include <sim/transport.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace redis_test {

namespace sim = bb::sim;

/// The model server.
class sim_redis {
public:
  sim_redis(sim::network& net, sim::host& h, std::uint16_t port = 6379)
      : net_(net), host_(h), transport_(net, h), clock_(net.exec(), h), port_(port) {}

  /// Where it listens.
  [[nodiscard]] bb::endpoint address() const { return {host_.ip, port_}; }

  /// Listens and serves until its host crashes; false when it cannot listen.
  bb::task<void> serve() {
    auto a = transport_.listen(address());
    if (!a) co_return;
    bb::scope s;
    for (;;) {
      auto c = co_await a->accept();
      if (!c) break;
      s.spawn(connection(std::move(c->stream)));
    }
    co_await s.join();
  }

  sim::duration delay{};             ///< waited before each reply
  std::string password;              ///< AUTH must give it when not empty
  std::uint64_t evalsha = 0;         ///< EVALSHA commands seen
  std::uint64_t eval = 0;            ///< EVAL commands seen
  std::uint64_t script_loads = 0;    ///< SCRIPT LOAD commands seen
  std::size_t most_in_one_read = 0;  ///< the most commands that arrived in one read: pipelining

  /// Forgets every script (SCRIPT FLUSH, or a restart).
  void flush_scripts() { scripts_.clear(); }
  /// Forgets every key (a restart without persistence).
  void flush_keys() { keys_.clear(); }

private:
  using command = std::vector<std::string>;

  /// One command from the front of `buf`, consumed; nullopt when it is not whole yet.
  static std::optional<command> parse(std::string& buf) {
    std::size_t pos = 0;
    auto line = [&]() -> std::optional<std::int64_t> {
      const auto end = buf.find("\r\n", pos);
      if (end == std::string::npos) return std::nullopt;
      std::int64_t v = 0;
      std::from_chars(buf.data() + pos + 1, buf.data() + end, v);
      pos = end + 2;
      return v;
    };
    if (buf.empty() || buf[0] != '*') return std::nullopt;
    const auto n = line();
    if (!n) return std::nullopt;
    command c;
    for (std::int64_t i = 0; i < *n; ++i) {
      if (pos >= buf.size()) return std::nullopt;
      const auto len = line();
      if (!len || buf.size() < pos + static_cast<std::size_t>(*len) + 2) return std::nullopt;
      c.emplace_back(buf, pos, static_cast<std::size_t>(*len));
      pos += static_cast<std::size_t>(*len) + 2;
    }
    buf.erase(0, pos);
    return c;
  }

  static std::string integer(std::int64_t v) { return ":" + std::to_string(v) + "\r\n"; }
  static std::string bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
  }
  static std::int64_t number(const std::string& s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }

  std::string sha_of(const std::string& script) const {
    return "sha" + std::to_string(std::hash<std::string>{}(script));
  }

  /// EVALSHA/EVAL's arguments after the script: 1 key p1 p2 quantity now.
  std::string decide(const command& c) {
    if (c.size() != 8) return "-ERR wrong number of arguments\r\n";
    const std::int64_t emission = number(c[4]), limit = number(c[5]), quantity = number(c[6]);
    const std::int64_t now_us = c[7].empty() ? bb::since_epoch(clock_.now()).count() / 1000 : number(c[7]);
    const bb::gcra g(limit - 1, 1, std::chrono::nanoseconds(emission));  // microseconds as the unit
    auto& state = keys_[c[3]];
    const auto d = g.decide(state, std::chrono::nanoseconds(now_us), static_cast<std::uint32_t>(quantity));
    return "*5\r\n" + integer(d.allowed ? 1 : 0) + integer(d.limit) + integer(d.remaining) + integer(d.retry_after_ns) +
           integer(d.reset_after_ns);
  }

  std::string answer(const command& c, bool& authed) {
    const std::string& name = c.at(0);
    if (name == "AUTH") {
      if (c.size() == 2 && c[1] == password) return authed = true, "+OK\r\n";
      return "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    }
    if (!password.empty() && !authed) return "-NOAUTH Authentication required.\r\n";
    if (name == "PING") return "+PONG\r\n";
    if (name == "SELECT") return "+OK\r\n";
    if (name == "SCRIPT" && c.size() == 3 && c[1] == "LOAD") {
      ++script_loads;
      scripts_.insert(sha_of(c[2]));
      return bulk(sha_of(c[2]));
    }
    if (name == "SCRIPT" && c.size() == 2 && c[1] == "FLUSH") return flush_scripts(), "+OK\r\n";
    if (name == "EVALSHA") {
      ++evalsha;
      if (!scripts_.contains(c.at(1))) return "-NOSCRIPT No matching script. Please use EVAL.\r\n";
      return decide(c);
    }
    if (name == "EVAL") {
      ++eval;
      scripts_.insert(sha_of(c.at(1)));
      return decide(c);
    }
    return "-ERR unknown command\r\n";
  }

  bb::task<void> connection(sim::stream s) {
    std::string in;
    char buf[4096];
    bool authed = false;
    for (;;) {
      auto [ec, n] = co_await s.read_some(buf);
      if (ec) break;
      in.append(buf, n);
      std::size_t count = 0;
      std::string out;
      while (auto c = parse(in)) {
        ++count;
        if (delay > sim::duration{}) {
          co_await clock_.sleep_for(delay);
          if (!s.is_open()) co_return;
        }
        out += answer(*c, authed);
        if (delay > sim::duration{}) {  // a slow server answers each as it gets to it
          const bb::const_buffer b[] = {{out.data(), out.size()}};
          if ((co_await s.write(b)).ec) co_return;
          out.clear();
        }
      }
      most_in_one_read = std::max(most_in_one_read, count);
      if (!out.empty()) {
        const bb::const_buffer b[] = {{out.data(), out.size()}};
        if ((co_await s.write(b)).ec) break;
      }
    }
  }

  sim::network& net_;
  sim::host& host_;
  sim::transport transport_;
  sim::virtual_clock clock_;
  std::uint16_t port_;
  std::set<std::string> scripts_;
  std::map<std::string, bb::gcra::state_type> keys_;
};

}  // namespace redis_test
