#pragma once
/// bb::sim::metrics_watch: counts from the outside what the proxy's metrics count from the
/// inside, and at the end of a run reports every figure where the two differ.
///
/// It sees the proxy's traffic to its upstreams (the outermost tap on the proxy's
/// transport), the health checker's (a tap on the checker's transport), the cluster's state
/// after every event, and each request's outcome as its client saw it; never the proxy's
/// counters until the end. Compared per upstream:
///  - attempts: connects, plus request heads sent on (or refused by) a connection that
///    had already carried one (a pooled connection taken);
///  - response heads by class: complete heads the proxy read, framed by Content-Length
///    and by the method of the request each answers;
///  - state changes: flips of the host's up/down state, seen after every event;
///  - retries: at least the heads that another head of the same request followed, at most
///    (over all hosts) attempts less the requests whose head went out;
///  - active checks: connects against verdicts, and heads of 200 read against passes; the
///    end of the run may cut one check per host before its verdict, so that many may be
///    missing;
/// and over the proxy: 429s sent against 429s the clients got, attempts timed out against
/// 504s the clients got.

#include <algorithm>
#include <array>
#include <bb/health/checker.hpp>
#include <bb/proxy/stats.hpp>
#include <bb/upstream/cluster.hpp>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <deque>
#include <optional>
#include <sim/connection.hpp>
#include <sim/executor.hpp>
#include <sim/http_lite.hpp>
#include <sim/invariants.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bb::sim {

class metrics_watch {
public:
  /// Watches a proxy whose cluster is `hosts`, its upstreams at `addresses` named `names`.
  /// Installs itself as the executor's after-event observer and as an outcome tap.
  metrics_watch(executor& exec, invariants& inv, const cluster& hosts, std::vector<endpoint> addresses,
                std::vector<std::string> names)
      : exec_(exec),
        inv_(inv),
        hosts_(hosts),
        addresses_(std::move(addresses)),
        names_(std::move(names)),
        ups_(addresses_.size()),
        proxy_side_(*this),
        check_side_(*this) {
    for (std::size_t i = 0; i < ups_.size(); ++i) ups_[i].up = hosts_.health(i).up.load(std::memory_order_relaxed);
    exec_.after_each(&metrics_watch::after_event, this);
    inv_.add_outcome_tap([this](const claim& c, duration) { outcome(c); });
  }
  metrics_watch(const metrics_watch&) = delete;
  metrics_watch& operator=(const metrics_watch&) = delete;
  ~metrics_watch() { exec_.after_each(nullptr, nullptr); }

  /// The tap to subscribe to the proxy's transport (first, before any judge).
  transport_tap& proxy_tap() noexcept { return proxy_side_; }
  /// The tap to subscribe to the health checker's transport (first).
  transport_tap& check_tap() noexcept { return check_side_; }

  /// Compares the proxy's counters (`stats`: one per worker, summed as a scrape sums them)
  /// and the checker's per host (`checks` empty: no active checks) with the watch's counts;
  /// each difference is a violation.
  void finish(const std::vector<const proxy_stats*>& stats, const std::vector<const check_stats*>& checks) {
    auto sum = [&](auto figure) {
      std::uint64_t n = 0;
      for (const auto* s : stats) n += figure(*s);
      return n;
    };
    std::uint64_t retries = 0, attempts = 0, timeouts = 0;
    for (std::size_t i = 0; i < ups_.size(); ++i) {
      const auto& w = ups_[i];
      const auto& name = names_[i];
      const auto u_attempts = sum([i](const proxy_stats& s) { return s.upstream[i].attempts.value(); });
      const auto u_retries = sum([i](const proxy_stats& s) { return s.upstream[i].retries.value(); });
      equal(name + " attempts", u_attempts, w.attempts);
      for (std::size_t c = 1; c < 6; ++c)
        equal(name + " " + std::to_string(c) + "xx response heads",
              sum([i, c](const proxy_stats& s) { return s.upstream[i].responses[c].value(); }), w.heads[c]);
      equal(name + " state changes", hosts_.health(i).changes.load(std::memory_order_relaxed), w.flips);
      at_least(name + " retries", u_retries, w.retried_heads);
      retries += u_retries;
      attempts += u_attempts;
      timeouts += sum([i](const proxy_stats& s) { return s.upstream[i].timeouts.value(); });
      if (const auto* c = i < checks.size() ? checks[i] : nullptr) {
        const auto verdicts = c->passed.value() + c->failed.value();
        within(name + " active checks with a verdict", verdicts, w.checks_started - std::min(w.checks_started, cut_),
               w.checks_started);
        within(name + " active checks passed", c->passed.value(), w.checks_passed - std::min(w.checks_passed, cut_),
               w.checks_passed);
      } else {
        equal(name + " active checks", w.checks_started, 0);
      }
    }
    const auto sent = static_cast<std::uint64_t>(sent_.size()) + claimed_sent_;
    at_most("retries over every upstream", retries, attempts - std::min(attempts, sent));
    equal("attempts timed out", timeouts, statuses_504_);
    equal("429 answers", sum([](const proxy_stats& s) { return s.rate_limited.value(); }), statuses_429_);
  }

  /// How many figures the watch compared.
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }

private:
  struct up {
    bool up = true;
    std::uint64_t attempts = 0, flips = 0, retried_heads = 0, checks_started = 0, checks_passed = 0;
    std::array<std::uint64_t, 6> heads{};
  };
  /// What the watch knows of one connection to an upstream.
  struct conn {
    std::size_t upstream = 0;
    std::uint64_t requests = 0;  ///< request heads sent on it
    std::deque<bool> pending;    ///< each request awaiting its response: whether it was HEAD
    std::string head;            ///< a response head read in part
    std::uint64_t body_left = 0;
    bool lost = false;    ///< bytes came that no request asked for: no longer framed
    bool check = false;   ///< a health check's connection
    bool judged = false;  ///< the check's head was read (or never will be)
  };

  /// One transport's events, told to the watch (which knows the two apart by the side).
  struct side final : transport_tap {
    explicit side(metrics_watch& watch) : w(watch) {}
    void connecting(const endpoint& to) override { w.connecting(*this, to); }
    void opened(const connection& c, const endpoint& to) override { w.opened(*this, c, to); }
    void wrote(const connection& c, const endpoint&, std::span<const const_buffer> bufs) override { w.wrote(c, bufs); }
    void read(const connection& c, const endpoint&, std::string_view bytes) override { w.read(c, bytes); }
    void write_refused(const connection& c, const endpoint&, std::span<const const_buffer> bufs) override {
      w.wrote(c, bufs);
    }
    void freed(const connection& c) override { w.conns_.erase(c.id); }
    metrics_watch& w;
  };

  static void after_event(void* self) { static_cast<metrics_watch*>(self)->poll(); }
  void poll() noexcept {
    for (std::size_t i = 0; i < ups_.size(); ++i) {
      const bool now_up = hosts_.health(i).up.load(std::memory_order_relaxed);
      if (now_up != ups_[i].up) ups_[i].up = now_up, ++ups_[i].flips;
    }
  }

  [[nodiscard]] std::size_t index_of(const endpoint& e) const noexcept {
    std::size_t i = 0;
    while (i < addresses_.size() && !(addresses_[i] == e)) ++i;
    return i;
  }

  void connecting(const side& s, const endpoint& to) {
    const auto i = index_of(to);
    if (i >= ups_.size()) return;
    if (&s == &check_side_) ++ups_[i].checks_started;
    else ++ups_[i].attempts;
  }
  void opened(const side& s, const connection& c, const endpoint& to) {
    const auto i = index_of(to);
    if (i >= ups_.size()) return;
    auto& k = conns_[c.id];
    k.upstream = i;
    k.check = &s == &check_side_;
  }

  void wrote(const connection& c, std::span<const const_buffer> bufs) {
    const auto it = conns_.find(c.id);
    if (it == conns_.end() || it->second.check || bufs.empty()) return;
    auto& k = it->second;
    const auto [method, id] = http_lite::request_of(std::string_view(bufs[0].data(), bufs[0].size()));
    if (id == 0) return;                                // body bytes
    if (k.requests++ > 0) ++ups_[k.upstream].attempts;  // a new connection's attempt was its connect
    k.pending.push_back(method == "HEAD");
    auto [at, fresh] = sent_.try_emplace(id, k.upstream);
    if (!fresh) ++ups_[at->second].retried_heads, at->second = k.upstream;
  }

  void read(const connection& c, std::string_view bytes) {
    const auto it = conns_.find(c.id);
    if (it == conns_.end()) return;
    auto& k = it->second;
    if (k.check) {
      if (k.judged) return;
      k.head.append(bytes);
      if (k.head.find("\r\n\r\n") != std::string::npos) {
        k.judged = true;
        if (status_of(k.head) == 200) ++ups_[k.upstream].checks_passed;
        k.head.clear();
      } else if (k.head.size() > 65536) {
        k.judged = true;
      }
      return;
    }
    std::string rest;
    while (!bytes.empty() && !k.lost) {
      if (k.body_left > 0) {
        const auto n = std::min<std::uint64_t>(k.body_left, bytes.size());
        k.body_left -= n;
        bytes.remove_prefix(n);
        continue;
      }
      if (k.pending.empty()) {  // bytes that answer nothing: the proxy drops the connection
        k.lost = true;
        break;
      }
      k.head.append(bytes);
      bytes = {};
      const auto end = k.head.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (k.head.size() > 65536) k.lost = true;
        break;
      }
      const int status = status_of(k.head);
      if (status < 100 || status > 599) {
        k.lost = true;
        break;
      }
      ++ups_[k.upstream].heads[status / 100];
      const bool head_request = k.pending.front();
      if (status >= 200) k.pending.pop_front();
      const auto length = content_length(std::string_view(k.head).substr(0, end + 2));
      k.body_left = head_request || http_lite::bodiless_status(status) ? 0
                    : length                                           ? *length
                                                                       : ~std::uint64_t{0};  // to the close
      rest.assign(k.head, end + 4);
      k.head.clear();
      bytes = rest;
    }
  }

  void outcome(const claim& c) {
    if (c.status == 504) ++statuses_504_;
    if (c.status == 429) ++statuses_429_;
    if (sent_.erase(c.id)) ++claimed_sent_;
  }

  static int status_of(std::string_view head) noexcept {
    int status = 0;
    if (head.size() >= 12 && head.starts_with("HTTP/1.")) std::from_chars(head.data() + 9, head.data() + 12, status);
    return status;
  }
  static std::optional<std::uint64_t> content_length(std::string_view head) noexcept {
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos; at = head.find("\r\n", at + 2)) {
      const auto line = head.substr(at + 2);
      constexpr std::string_view name = "content-length:";
      if (line.size() < name.size()) continue;
      bool same = true;
      for (std::size_t j = 0; j < name.size() && same; ++j)
        same = static_cast<char>(std::tolower(static_cast<unsigned char>(line[j]))) == name[j];
      if (!same) continue;
      auto v = line.substr(name.size());
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      std::uint64_t n = 0;
      if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc{}) return n;
    }
    return std::nullopt;
  }

  void equal(const std::string& what, std::uint64_t metric, std::uint64_t seen) {
    ++checks_;
    if (metric != seen)
      inv_.violate(
          broken::metrics, 0,
          what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw " + std::to_string(seen));
  }
  void at_least(const std::string& what, std::uint64_t metric, std::uint64_t floor) {
    ++checks_;
    if (metric < floor)
      inv_.violate(broken::metrics, 0,
                   what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw at least " +
                       std::to_string(floor));
  }
  void at_most(const std::string& what, std::uint64_t metric, std::uint64_t ceiling) {
    ++checks_;
    if (metric > ceiling)
      inv_.violate(broken::metrics, 0,
                   what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw at most " +
                       std::to_string(ceiling));
  }
  void within(const std::string& what, std::uint64_t metric, std::uint64_t low, std::uint64_t high) {
    ++checks_;
    if (metric < low || metric > high)
      inv_.violate(broken::metrics, 0,
                   what + ": the proxy's metrics say " + std::to_string(metric) + ", the watch saw " +
                       std::to_string(low) + (low == high ? "" : " to " + std::to_string(high)));
  }

  executor& exec_;
  invariants& inv_;
  const cluster& hosts_;
  std::vector<endpoint> addresses_;
  std::vector<std::string> names_;
  std::vector<up> ups_;
  side proxy_side_, check_side_;
  std::unordered_map<std::uint64_t, conn> conns_;
  std::unordered_map<std::uint64_t, std::size_t> sent_;  ///< request id -> the host its last head went to
  std::uint64_t claimed_sent_ = 0;                       ///< requests whose head went out and that have their outcome
  std::uint64_t statuses_504_ = 0, statuses_429_ = 0, checks_ = 0;
  static constexpr std::uint64_t cut_ = 1;  ///< checks per host the run's end may cut before their verdict
};

}  // namespace bb::sim
