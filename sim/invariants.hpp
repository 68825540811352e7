#pragma once
/// bb::sim::invariants: what must hold in every run, checked as each event happens.
///
/// Every request gets exactly one outcome: a response (in request order on its
/// connection, body intact, answering that very request) or a failure the scenario allows.
/// At the end, no request is unresolved and nothing (connection, listener, timer, task) is
/// left behind. The first violation is kept with its time, for the report and the replay
/// command.

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <sim/executor.hpp>
#include <sim/id_window.hpp>
#include <sim/trace.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bb::sim {

/// How a request ended, as the client saw it.
enum class outcome : std::uint8_t {
  ok,            ///< a 2xx response with the expected body
  server_error,  ///< a 5xx response (the proxy's 502/504, or an upstream's 500)
  client_error,  ///< a 4xx response
  conn_error,    ///< the connection failed (refused, reset, closed) before the response
  timeout,       ///< the client gave up waiting
};
inline constexpr std::size_t outcome_count = 5;

constexpr std::string_view to_string(outcome o) noexcept {
  constexpr std::string_view names[] = {"ok", "server_error", "client_error", "conn_error", "timeout"};
  return names[static_cast<int>(o)];
}

/// How one request ended, as its client saw it: what a judge decides on.
struct claim {
  std::uint64_t id = 0;
  outcome what = outcome::ok;
  int status = 0;             ///< the response's status; 0 for a failure
  std::uint64_t answers = 0;  ///< the request the response names (X-Sim-Answers); 0: none
  std::uint64_t behind = 0;   ///< a failure: the request whose response broke the connection first (0: its own)
};

/// Which invariant broke; the number goes into the trace.
enum class broken : std::uint8_t {
  two_outcomes = 1,    ///< a request resolved twice
  out_of_order,        ///< a response carried the body of a later request on its connection
  corrupt_body,        ///< a 2xx body does not match what was sent or asked for
  disallowed_outcome,  ///< an outcome the scenario does not allow
  unresolved,          ///< a request never got an outcome
  left_behind,         ///< a connection, listener, timer or task outlived the run
  bad_response,        ///< bytes that do not parse as an HTTP response
  late_detection,      ///< client traffic reached a failed upstream past the bound
  late_recovery,       ///< a restarted upstream got no client traffic within the bound
  late_error,          ///< a 502 for lack of upstreams came later than the bound
  misbalanced,         ///< shares of requests off what the balancing policy promises
  key_moved,           ///< consistent hashing moved a client it had no cause to move
  wrong_answer,        ///< a response answered another request: bytes of one exchange reached another
  same_host_retry,     ///< a request went back to a host it had failed on
  retry_storm,         ///< a request made more attempts than its budget
  replayed_post,       ///< a non-idempotent request's bytes reached a second upstream connection
  timeout_bound,       ///< a 504 came before the response timeout or long after it
  hung_not_504,        ///< a request to a host that never answers did not end in 504
  broken_not_502,      ///< a truncated response did not end in 502 or a closed connection
  backoff,             ///< a host marked down was tried more often, or later, than its backoff says
  check_timing,        ///< an active check came outside its round's window
  not_live,            ///< after the heal, a host stayed down or a request failed
  in_flight,           ///< a request counted in flight outlived the run
  metrics,             ///< a proxy metric differs from what the watchers counted
  early_rise,          ///< a down host came up before `rise` checks in a row passed
};

constexpr std::string_view to_string(broken b) noexcept {
  constexpr std::string_view names[] = {"",
                                        "two_outcomes",
                                        "out_of_order",
                                        "corrupt_body",
                                        "disallowed_outcome",
                                        "unresolved",
                                        "left_behind",
                                        "bad_response",
                                        "late_detection",
                                        "late_recovery",
                                        "late_error",
                                        "misbalanced",
                                        "key_moved",
                                        "wrong_answer",
                                        "same_host_retry",
                                        "retry_storm",
                                        "replayed_post",
                                        "timeout_bound",
                                        "hung_not_504",
                                        "broken_not_502",
                                        "backoff",
                                        "check_timing",
                                        "not_live",
                                        "in_flight",
                                        "metrics",
                                        "early_rise"};
  return names[static_cast<int>(b)];
}

class invariants {
public:
  invariants(executor& exec, trace& tr) : exec_(exec), trace_(tr) { allow(outcome::ok); }

  /// Lets outcome `o` happen without a violation.
  void allow(outcome o) noexcept { allowed_ |= 1u << static_cast<int>(o); }
  [[nodiscard]] bool allowed(outcome o) const noexcept { return allowed_ & (1u << static_cast<int>(o)); }

  /// Says whether a request may end as `c` says although the scenario does not allow its
  /// outcome in general; it may record violations itself.
  using judge_type = std::function<bool(const claim& c)>;
  /// Adds `j` to the judges consulted for every outcome that is not allowed outright: the
  /// newest first, until one excuses it (each may count what it excused).
  void add_judge(judge_type j) { judges_.insert(judges_.begin(), std::move(j)); }
  /// Says whether the client of request `id` may see the answer to request `named` instead
  /// (`named` 0: bytes that do not parse as a response); it may note why not.
  using answer_judge_type = std::function<bool(std::uint64_t id, std::uint64_t named)>;
  /// Consults `j` for every response that answers another request, and every unparsable one.
  void set_answer_judge(answer_judge_type j) { answer_judge_ = std::move(j); }
  /// Told every request's first outcome and how long after its issue it came.
  using outcome_tap_type = std::function<void(const claim& c, duration latency)>;
  /// Calls `t` (and every tap added before it) for every request's first outcome, after it is counted.
  void add_outcome_tap(outcome_tap_type t) { outcome_taps_.push_back(std::move(t)); }
  /// Told every request as it is issued: its id and its client host.
  using issue_tap_type = std::function<void(std::uint64_t id, std::uint32_t client)>;
  /// Calls `t` (and every tap added before it) for every request issued from now on.
  void add_issue_tap(issue_tap_type t) { issue_taps_.push_back(std::move(t)); }
  /// Lets a judge that refuses say why; the text goes into the violation it causes (judges
  /// in a chain each add theirs).
  void note(std::string_view why) { note_.append(note_.empty() ? "" : "; ").append(why); }

  /// A new request from `client` whose body (sent or expected) has checksum `sum`.
  std::uint64_t issue(std::uint32_t client, std::uint64_t sum) {
    const std::uint64_t id = ++issued_count_;
    pending_.forget_while([](const request_state& r) { return r.resolved; });
    pending_.at(id)->issued = exec_.now();
    trace_.add(exec_.now(), ev::request, client, 0, id, sum);
    for (const auto& t : issue_taps_) t(id, client);
    return id;
  }

  /// Request `id` got a response with `status` naming request `answers` (0: it names none,
  /// as the proxy's own do); `body_ok` and `in_order` as the client saw.
  void respond(std::uint64_t id, std::uint32_t client, int status, bool body_ok, bool in_order,
               std::uint64_t answers = 0) {
    trace_.add(exec_.now(), ev::response, client, 0, id, static_cast<std::uint64_t>(status));
    const outcome o = status >= 500   ? outcome::server_error
                      : status >= 400 ? outcome::client_error
                      : status >= 200 ? outcome::ok
                                      : outcome::server_error;
    if (answers != 0 && answers != id) {
      // Another request's answer: its status and body say nothing about this request, so
      // the answer judge alone decides (a race excuses the outcome with the answer).
      if (!resolve({id, o, status, answers, 0}, false)) return;
      ++checks_;
      if (!(answer_judge_ && answer_judge_(id, answers)))
        violate(broken::wrong_answer, id,
                "a " + std::to_string(status) + " answering #" + std::to_string(answers) + " reached its client" +
                    (note_.empty() ? "" : ": " + note_));
      note_.clear();
      return;
    }
    if (!resolve({id, o, status, answers, 0})) return;
    ++checks_;
    if (!in_order) violate(broken::out_of_order, id, "response " + std::to_string(status) + " out of request order");
    ++checks_;
    if (o == outcome::ok && !body_ok) violate(broken::corrupt_body, id, "body checksum mismatch");
  }

  /// Request `id` failed without a response; `behind`: the request whose response broke
  /// the connection first, when that was not this one's (a pipelined request behind it).
  void fail(std::uint64_t id, std::uint32_t client, outcome o, std::uint64_t behind = 0) {
    trace_.add(exec_.now(), ev::failure, client, 0, id, static_cast<std::uint64_t>(o));
    resolve({id, o, 0, 0, behind});
  }

  /// The client of request `id` read bytes that do not parse as a response (it then fails
  /// the request): a violation unless the answer judge excuses it.
  void unparsable(std::uint64_t id) {
    ++checks_;
    if (!(answer_judge_ && answer_judge_(id, 0)))
      violate(broken::bad_response, id, "unparsable response bytes" + (note_.empty() ? "" : ": " + note_));
    note_.clear();
  }

  /// Records a violation found by the world (bad bytes, leftovers).
  void violate(broken b, std::uint64_t subject, std::string what) {
    ++violations_;
    trace_.add(exec_.now(), ev::violation, 0, 0, static_cast<std::uint64_t>(b), subject);
    if (violations_ == 1) {
      first_time_ = exec_.now();
      first_ = std::string(to_string(b)) + " (#" + std::to_string(subject) + "): " + std::move(what);
    }
  }
  /// Checks one end-of-run condition; `what` describes it when it fails.
  void expect(bool ok, std::string_view what) {
    ++checks_;
    if (!ok) violate(broken::left_behind, 0, std::string(what));
  }

  /// Every request must have an outcome by the end of the run.
  void check_all_resolved() {
    checks_ += pending_.first() - 1;  // forgotten ones were resolved
    for (auto id = pending_.first(); id <= issued_count_; ++id) {
      ++checks_;
      if (!pending_.find(id)->resolved) violate(broken::unresolved, id, "request never got an outcome");
    }
  }

  [[nodiscard]] std::uint64_t requests() const noexcept { return issued_count_; }
  /// When request `id` was issued; throws std::out_of_range when `id` was not issued or was
  /// resolved before the latest issue (only requests outstanding then are remembered).
  [[nodiscard]] duration issued_at(std::uint64_t id) const {
    const auto* r = id <= issued_count_ ? pending_.find(id) : nullptr;
    if (!r) throw std::out_of_range("sim: no issue time kept for request " + std::to_string(id));
    return r->issued;
  }
  /// Every request below this id has an outcome (a lower bound: the oldest outstanding one
  /// as of the latest issue), so what watches keep per request below it may be forgotten.
  [[nodiscard]] std::uint64_t oldest_unresolved() const noexcept { return pending_.first(); }
  [[nodiscard]] std::uint64_t count(outcome o) const noexcept { return by_outcome_[static_cast<int>(o)]; }
  [[nodiscard]] std::uint64_t checks() const noexcept { return checks_; }
  [[nodiscard]] std::uint64_t violations() const noexcept { return violations_; }
  [[nodiscard]] const std::string& first() const noexcept { return first_; }
  [[nodiscard]] duration first_time() const noexcept { return first_time_; }

private:
  bool resolve(const claim& c, bool judged = true) {
    const auto id = c.id;
    const auto o = c.what;
    const int status = c.status;
    ++checks_;
    auto* r = id != 0 && id <= issued_count_ ? pending_.at(id) : nullptr;  // forgotten: resolved
    if (!r || r->resolved) {
      violate(broken::two_outcomes, id, "a second outcome: " + std::string(to_string(o)));
      return false;
    }
    r->resolved = true;
    ++by_outcome_[static_cast<int>(o)];
    for (const auto& t : outcome_taps_) t(c, exec_.now() - r->issued);
    if (!judged) return true;
    ++checks_;
    if (!allowed(o) && !std::any_of(judges_.begin(), judges_.end(), [&](const judge_type& j) { return j(c); }))
      violate(broken::disallowed_outcome, id,
              "outcome " + std::string(to_string(o)) + (status ? " (" + std::to_string(status) + ")" : "") +
                  " not allowed" + (note_.empty() ? "" : ": " + note_));
    note_.clear();
    return true;
  }

  executor& exec_;
  trace& trace_;
  /// What is kept of a request until every request before it is resolved too.
  struct request_state {
    duration issued{0};
    bool resolved = false;
  };
  std::uint32_t allowed_ = 0;
  std::uint64_t issued_count_ = 0;
  id_window<request_state> pending_;
  std::vector<judge_type> judges_;  // newest first
  answer_judge_type answer_judge_;
  std::vector<outcome_tap_type> outcome_taps_;
  std::vector<issue_tap_type> issue_taps_;
  std::string note_;
  std::array<std::uint64_t, outcome_count> by_outcome_{};
  std::uint64_t checks_ = 0;
  std::uint64_t violations_ = 0;
  std::string first_;
  duration first_time_{0};
};

}  // namespace bb::sim
