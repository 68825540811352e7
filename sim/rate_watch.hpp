#pragma once
/// bb::sim::rate_watch: the rate-limit invariants, checked as the traffic happens.
///
/// It taps the rate clients' connections and the proxy's upstream transport. A request
/// is decided by the proxy at the instant its bytes reach the proxy (the clients never
/// pipeline, so the session is waiting for them, and the in-memory limiter answers
/// without suspending), so the watch runs its own model (rate_model.hpp) at that instant
/// and then holds the proxy to it:
/// - the status is 429 exactly when the model refuses (a 429 to a client under its limit
///   and a 200 over it are both violations), with X-RateLimit-Limit, -Remaining, -Reset
///   equal to the model's and Retry-After present on a 429 only, equal to the model's;
/// - a refused request never reaches an upstream, an admitted one does, carrying the
///   client's address in X-Forwarded-For; a refused request without a body keeps its
///   connection;
/// - counted from what reaches the upstreams: at most N per client per aligned window
///   (fixed and sliding window), and for gcra, over any interval t between two
///   admissions of a client, at most limit + t/T of them (T = W / N);
/// - a client that waited Retry-After after a 429 is admitted.

#include <algorithm>
#include <bb/core/net.hpp>
#include <charconv>
#include <cstdint>
#include <limits>
#include <sim/connection.hpp>
#include <sim/executor.hpp>
#include <sim/http_lite.hpp>
#include <sim/invariants.hpp>
#include <sim/rate_model.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bb::sim {

class rate_watch final : public transport_tap {
public:
  /// Watches clients of a proxy at `proxy` limited by `p`, with `clients` client addresses.
  rate_watch(executor& exec, invariants& inv, const rate_params& p, endpoint proxy, std::vector<ip_address> clients)
      : exec_(exec),
        inv_(inv),
        p_(p),
        model_(p),
        proxy_(proxy),
        ips_(std::move(clients)),
        states_(ips_.size()),
        admitted_(ips_.size()) {
    for (const auto& ip : ips_) ip_text_.push_back(ip.to_string());
    inv_.add_judge([this](const claim& c) { return judge(c.id, c.what, c.status); });
  }
  rate_watch(const rate_watch&) = delete;
  rate_watch& operator=(const rate_watch&) = delete;

  /// Client `client` issued request `id`; `waited` when it comes Retry-After after a 429.
  void issued(std::uint64_t id, std::size_t client, bool waited) {
    if (id >= reqs_.size()) reqs_.resize(std::max<std::size_t>(id + 1, reqs_.size() * 2));
    reqs_[id] = req{};
    reqs_[id].client = static_cast<std::uint32_t>(client);
    reqs_[id].waited = waited;
  }

  // ---- the taps ---------------------------------------------------------------------------

  void connecting(const endpoint&) override {}

  void wrote(const connection& c, const endpoint& to, std::span<const const_buffer> bufs) override {
    if (bufs.empty()) return;
    const std::string_view head(bufs[0].data(), bufs[0].size());
    const bool post = head.starts_with("POST /r/");
    if (!post && !head.starts_with("GET /r/")) return;
    std::uint64_t id = 0;
    const auto digits = head.substr(post ? 8 : 7);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), id).ec != std::errc{} || id >= reqs_.size())
      return;
    if (to == proxy_) {
      pending_[c.id] = id;  // a client's request, decided when it arrives
      reqs_[id].body = post;
    } else {
      upstream(id, head);
    }
  }

  void delivered(const connection& c, int to_side, std::size_t) override {
    if (to_side != 1 || !(c.sides[1].local == proxy_)) return;
    const auto it = pending_.find(c.id);
    if (it == pending_.end()) return;
    const std::uint64_t id = it->second;
    pending_.erase(it);
    auto& r = reqs_[id];
    r.decided = true;
    r.at = exec_.now().count();
    r.expect = model_.decide(states_[r.client], r.at);
  }

  // ---- what the clients saw -----------------------------------------------------------------

  /// Request `id` was answered with `m`; checks the status and headers against the model.
  void answered(std::uint64_t id, const http_lite::message& m) {
    auto& r = reqs_[id];
    const auto& e = r.expect;
    ++checks_;
    if (!r.decided) return fail(id, "a response to a request the proxy never received");
    if (m.status == 429 || m.status == 200) {
      if ((m.status == 200) != e.allowed)
        return fail(id, std::string(e.allowed ? "429 to a client under its limit" : "200 to a client over its limit") +
                            " (" + describe(r) + ")");
      ++(e.allowed ? admitted_total_ : refused_total_);
    }
    ++checks_;
    if (m.rate_limit != e.limit || m.rate_remaining != e.remaining || m.rate_reset != e.reset_s ||
        m.retry_after != (m.status == 429 ? e.retry_after : -1))
      return fail(id, "headers Limit/Remaining/Reset/Retry-After " + std::to_string(m.rate_limit) + "/" +
                          std::to_string(m.rate_remaining) + "/" + std::to_string(m.rate_reset) + "/" +
                          std::to_string(m.retry_after) + " on a " + std::to_string(m.status) + ", expected " +
                          std::to_string(e.limit) + "/" + std::to_string(e.remaining) + "/" +
                          std::to_string(e.reset_s) + "/" + std::to_string(m.status == 429 ? e.retry_after : -1) +
                          " (" + describe(r) + ")");
    ++checks_;
    if (m.status == 429 && r.upstream) return fail(id, "a refused request reached an upstream (" + describe(r) + ")");
    if (m.status == 200 && !r.upstream) return fail(id, "a 200 no upstream sent (" + describe(r) + ")");
    ++checks_;
    if (m.status == 429 && !r.body && m.close)
      return fail(id, "a 429 to a request without a body closed the connection");
    if (r.waited) {
      ++checks_;
      if (m.status != 200) return fail(id, "refused after waiting Retry-After (" + describe(r) + ")");
      ++waited_admitted_;
    }
  }

  /// The window count and gcra interval bound for the requests that reached upstreams.
  [[nodiscard]] std::uint64_t max_per_window() const noexcept { return max_per_window_; }
  [[nodiscard]] std::uint64_t admitted() const noexcept { return admitted_total_; }
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_total_; }
  /// How the requests that reached upstreams relate to the limit, by name.
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> tallies() const {
    std::vector<std::pair<std::string, std::uint64_t>> t;
    t.emplace_back("rate: admitted (200)", admitted_total_);
    t.emplace_back("rate: refused (429)", refused_total_);
    t.emplace_back("rate: max admitted per client per aligned window (N = " + std::to_string(p_.n) + ")",
                   max_per_window_);
    if (p_.algorithm == rate_limit_algorithm::gcra)
      t.emplace_back("rate: gcra tightest interval, admitted over limit + t/T, per mille", tightest_permille_);
    t.emplace_back("rate: waited Retry-After and admitted", waited_admitted_);
    return t;
  }
  /// Requests of client `client` that reached an upstream.
  [[nodiscard]] std::size_t upstream_count(std::size_t client) const { return admitted_[client].size(); }
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }

private:
  struct req {
    std::uint32_t client = 0;
    bool decided = false, waited = false, body = false;
    std::uint32_t upstream = 0;  // heads sent to upstreams
    std::int64_t at = 0;         // decision time
    expected_decision expect;
  };

  void fail(std::uint64_t id, std::string what) {
    inv_.violate(broken::disallowed_outcome, id, "rate limit: " + std::move(what));
  }

  std::string describe(const req& r) const {
    return "client " + ip_text_[r.client] + " decided at " + std::to_string(r.at / 1000) + " us, model remaining " +
           std::to_string(r.expect.remaining) + ", window " + std::to_string(r.at / p_.window.count());
  }

  /// Request `id`'s head went to an upstream.
  void upstream(std::uint64_t id, std::string_view head) {
    auto& r = reqs_[id];
    ++checks_;
    if (!r.decided || !r.expect.allowed) return fail(id, "a request the limit refuses reached an upstream");
    ++checks_;
    const auto& ip = ip_text_[r.client];
    // The clients send none, so the proxy's X-Forwarded-For is the client's address alone.
    constexpr std::string_view name = "\r\nX-Forwarded-For: ";
    const auto xff = head.find(name);
    const auto value = xff == std::string_view::npos ? std::string_view{} : head.substr(xff + name.size());
    if (value.substr(0, value.find("\r\n")) != ip) return fail(id, "the upstream head lacks X-Forwarded-For: " + ip);
    if (r.upstream++) return;  // sent again elsewhere: counted once
    auto& times = admitted_[r.client];
    const auto at = std::upper_bound(times.begin(), times.end(), r.at);
    const auto p = static_cast<std::size_t>(at - times.begin());
    times.insert(at, r.at);
    // At most N in the aligned window of this admission (not a bound gcra promises).
    const std::int64_t w = p_.window.count(), k = r.at / w;
    std::size_t lo = p, hi = p;
    while (lo > 0 && times[lo - 1] / w == k) --lo;
    while (hi + 1 < times.size() && times[hi + 1] / w == k) ++hi;
    max_per_window_ = std::max<std::uint64_t>(max_per_window_, hi - lo + 1);
    ++checks_;
    if (p_.algorithm != rate_limit_algorithm::gcra && hi - lo + 1 > p_.n)
      return fail(id, std::to_string(hi - lo + 1) + " admitted in one window (" + describe(r) + ")");
    if (p_.algorithm == rate_limit_algorithm::gcra) interval_bound(id, times, p);
  }

  /// Over every interval [a_i, a_j] holding the new admission p: (j - i + 1) <= limit + (a_j - a_i)/T,
  /// i.e. max_{i<=p}(a_i - i*T) + max_{j>=p}((j+1)*T - a_j) <= limit*T.
  void interval_bound(std::uint64_t id, const std::vector<std::int64_t>& a, std::size_t p) {
    const std::int64_t t = model_.emission();
    std::int64_t left = std::numeric_limits<std::int64_t>::min(), right = left;
    std::size_t bi = 0, bj = 0;
    for (std::size_t i = 0; i <= p; ++i)
      if (a[i] - static_cast<std::int64_t>(i) * t > left) left = a[i] - static_cast<std::int64_t>(i) * t, bi = i;
    for (std::size_t j = p; j < a.size(); ++j)
      if (static_cast<std::int64_t>(j + 1) * t - a[j] > right)
        right = static_cast<std::int64_t>(j + 1) * t - a[j], bj = j;
    const std::int64_t used = left + right, allowed = model_.limit() * t;
    // Per mille of the bound used, for the report: admitted / (limit + t/T).
    const auto n = static_cast<double>(bj - bi + 1);
    const double bound =
        static_cast<double>(model_.limit()) + static_cast<double>(a[bj] - a[bi]) / static_cast<double>(t);
    tightest_permille_ = std::max<std::uint64_t>(tightest_permille_, static_cast<std::uint64_t>(1000.0 * n / bound));
    ++checks_;
    if (used > allowed)
      fail(id, std::to_string(bj - bi + 1) + " admitted in " + std::to_string((a[bj] - a[bi]) / 1000) +
                   " us, over limit + t/T = " + std::to_string(bound) + " (" + describe(reqs_[id]) + ")");
  }

  bool judge(std::uint64_t id, outcome o, int status) {
    if (o == outcome::client_error && status == 429 && id < reqs_.size() && reqs_[id].decided &&
        !reqs_[id].expect.allowed)
      return true;  // the model refused it too; answered() checked the rest
    if (id < reqs_.size()) inv_.note(describe(reqs_[id]));
    return false;
  }

  executor& exec_;
  invariants& inv_;
  rate_params p_;
  rate_model model_;
  endpoint proxy_;
  std::vector<ip_address> ips_;
  std::vector<std::string> ip_text_;
  std::vector<rate_model::state> states_;
  std::vector<std::vector<std::int64_t>> admitted_;  // per client, decision times, sorted
  std::vector<req> reqs_;
  std::unordered_map<std::uint64_t, std::uint64_t> pending_;  // connection -> request in flight
  std::uint64_t admitted_total_ = 0, refused_total_ = 0, waited_admitted_ = 0;
  std::uint64_t max_per_window_ = 0, tightest_permille_ = 0, checks_ = 0;
};

}  // namespace bb::sim
