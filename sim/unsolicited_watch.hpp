#pragma once
/// bb::sim::unsolicited_watch: which requests unasked upstream bytes could mislead, judged
/// from what the simulated network saw, and excuses for exactly those.
///
/// HTTP/1.1 pairs the n-th response on a connection with the n-th request. When an
/// upstream writes bytes nobody asked for (misbehaviour.hpp), one race is lost by any
/// intermediary: if those bytes reach the proxy's end of the connection only after the
/// proxy has written its next request there, nothing tells them from that request's
/// answer. Bytes that arrive while the connection waits in the pool idle must get it closed
/// (and a connection with input pending is never handed out), so they mislead nobody.
///
/// The watch taps the proxy's upstream transport (request heads written, data delivered
/// to the proxy's end) and hears every upstream write (upstream_log), so it replays each
/// connection as a proxy that does everything right would see it: each write of the
/// upstream, when it reaches the proxy's end, is taken as the answer to the oldest request
/// written there and not yet answered. Then:
/// - a write that arrives while no request waits makes the connection unusable (such a
///   proxy closes it); requests written there later are never excused;
/// - a write that arrives while request R waits, and is not R's own answer (unasked bytes
///   that raced R, or the answer of an earlier request pushed onto R by such a race),
///   misleads R: R's client may get the response those bytes name (when they read as
///   one), or fail in any way, and so may the requests pipelined behind R on the client's
///   connection whose response R's broke (a conn_error or timeout);
/// - writes reaching an end the proxy has closed or that a reset reached are read by nobody.
/// R is excused only while its head last went out on that connection (a retry elsewhere is
/// judged on its own). An early answer (a POST answered 413 on its head) may reach its
/// client as that 413 naming it; a 502 for that POST is excused only when no complete
/// response head for it ever reached the proxy's end while it was open and not reset.
/// Everything else goes on to the next judge (the failover watch's).

#include <cstdint>
#include <sim/compact_fifo.hpp>
#include <sim/connection.hpp>
#include <sim/executor.hpp>
#include <sim/http_lite.hpp>
#include <sim/invariants.hpp>
#include <sim/misbehaviour.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bb::sim {

class unsolicited_watch final : public transport_tap, public upstream_log {
public:
  /// Watches the proxy's connections to the upstreams at `addresses` (called `names`),
  /// subscribed to the proxy's transport, and judges before the judges `inv` has now.
  unsolicited_watch(executor& exec, invariants& inv, std::vector<std::string> names, std::vector<endpoint> addresses)
      : exec_(exec), inv_(inv), names_(std::move(names)), addresses_(std::move(addresses)) {
    inv_.add_judge([this](const claim& c) { return judge(c); });
    inv_.set_answer_judge([this](std::uint64_t id, std::uint64_t named) { return judge_answer(id, named); });
  }
  unsolicited_watch(const unsolicited_watch&) = delete;
  unsolicited_watch& operator=(const unsolicited_watch&) = delete;

  // ---- the tap on the proxy's upstream transport ------------------------------------------

  void connecting(const endpoint&) override {}

  void opened(const connection& c, const endpoint& to) override {
    if (const auto i = index_of(to); i < addresses_.size()) links_[c.id].upstream = i;
  }

  void wrote(const connection& c, const endpoint&, std::span<const const_buffer> bufs) override {
    if (bufs.empty()) return;
    const auto id = http_lite::request_of(std::string_view(bufs[0].data(), bufs[0].size())).id;
    const auto it = links_.find(c.id);
    if (id == 0 || it == links_.end()) return;
    if (id >= last_conn_.size()) last_conn_.resize(std::max<std::size_t>(id + 1, last_conn_.size() * 2), 0);
    last_conn_[id] = c.id;
    auto& l = it->second;
    if (l.idle_at.count() >= 0)
      ++tallies_[sent_after_idle_bytes];  // such a proxy had closed it: whatever follows is not excused
    else l.waiting.push_back(id);
  }

  void delivered(const connection& c, int to_side, std::size_t bytes) override {
    if (to_side != 0) return;
    const auto it = links_.find(c.id);
    if (it == links_.end()) return;
    auto& l = it->second;
    if (l.in_flight.empty() || l.in_flight.front().second != bytes) {
      inv_.violate(broken::wrong_answer, 0,
                   "the unsolicited watch lost track of connection " + std::to_string(c.id) +
                       ": a delivery no upstream write accounts for");
      return;
    }
    const piece p = l.in_flight.front().first;
    l.in_flight.pop_front();
    const side& proxy_end = c.sides[0];
    if (proxy_end.closed || proxy_end.aborted || proxy_end.rst_in) {  // nobody reads it
      if (p.unasked()) ++tallies_[unasked_unread];
      return;
    }
    if (p.is == piece::what::early_answer)
      if (const auto e = early_.find(p.request); e != early_.end()) e->second = true;
    if (l.idle_at.count() >= 0 || l.waiting.empty()) {
      if (l.idle_at.count() < 0) l.idle_at = exec_.now(), l.idle_piece = p;
      ++tallies_[p.unasked() ? unasked_idle : shifted_idle];
      return;
    }
    const auto r = l.waiting.front();
    l.waiting.pop_front();
    if (!p.unasked() && p.request == r) return;  // in step
    ++tallies_[p.unasked() ? unasked_raced : shifted_raced];
    misled_[r] = {c.id, p};
  }

  // ---- what the upstreams wrote ---------------------------------------------------------------

  void record(std::uint64_t connection, std::size_t bytes, const piece& p) override {
    const auto it = links_.find(connection);
    if (it == links_.end()) return;  // a health check's, or a client's straight to the upstream
    it->second.in_flight.emplace_back(p, bytes);
    if (p.unasked()) ++tallies_[unasked];
    if (p.is == piece::what::early_answer) {
      ++tallies_[early];
      early_.emplace(p.request, false);
    }
  }

  /// What the watch counted, by name (the report prints those that are not 0).
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> tallies() const {
    static constexpr std::string_view names[] = {
        "unsolicited: unasked writes to the proxy",
        "unsolicited: arrived on an idle connection",
        "unsolicited: raced the next request (excused)",
        "unsolicited: reached a closed or reset end",
        "unsolicited: answers pushed onto a later request by a race (excused)",
        "unsolicited: answers pushed out by a race, arrived idle",
        "unsolicited: requests sent where bytes had arrived idle",
        "unsolicited: wrong answers from a race (excused)",
        "unsolicited: failures from a race (excused)",
        "unsolicited: pipelined behind those and cut (excused)",
        "early answers: 413 before the body was read",
        "early answers: 413 relayed to the client",
        "early answers: 502 with no answer ever readable (excused)",
    };
    std::vector<std::pair<std::string, std::uint64_t>> t;
    for (std::size_t k = 0; k < tally_count; ++k) t.emplace_back(names[k], tallies_[k]);
    return t;
  }

private:
  enum tally_index : std::size_t {
    unasked,
    unasked_idle,
    unasked_raced,
    unasked_unread,
    shifted_raced,
    shifted_idle,
    sent_after_idle_bytes,
    wrong_excused,
    failure_excused,
    behind_excused,
    early,
    early_relayed,
    early_502,
    tally_count
  };

  /// One connection from the proxy to an upstream, as a proxy that does everything right sees it.
  struct link {
    std::size_t upstream = 0;
    compact_fifo<std::uint64_t> waiting;                    ///< requests written, their answer not arrived
    compact_fifo<std::pair<piece, std::size_t>> in_flight;  ///< upstream writes (and sizes) not yet delivered
    duration idle_at{-1};                                   ///< when a write first arrived with none waiting
    piece idle_piece;                                       ///< that write
  };
  /// A request that bytes not its own answer reached first, on connection `conn`.
  struct misled {
    std::uint64_t conn = 0;
    piece by;
  };

  [[nodiscard]] std::size_t index_of(const endpoint& e) const noexcept {
    std::size_t i = 0;
    while (i < addresses_.size() && !(addresses_[i] == e)) ++i;
    return i;
  }

  [[nodiscard]] std::uint64_t last_conn(std::uint64_t id) const noexcept {
    return id < last_conn_.size() ? last_conn_[id] : 0;
  }

  /// The race that misled request `id` on the connection its head last went out on, if any.
  [[nodiscard]] const misled* misled_by(std::uint64_t id) const {
    const auto it = misled_.find(id);
    return it != misled_.end() && it->second.conn == last_conn(id) ? &it->second : nullptr;
  }

  bool judge(const claim& c) {
    if (const auto e = early_.find(c.id); e != early_.end()) {
      if (c.status == 413 && c.answers == c.id) return ++tallies_[early_relayed], true;
      if (c.status == 502 && c.answers == 0 && !e->second) return ++tallies_[early_502], true;
      if (c.status == 502 && e->second)
        inv_.note("its upstream answered it 413 before reading its body, and that answer reached the proxy's open end");
    }
    if (misled_by(c.id)) return ++tallies_[failure_excused], true;
    const bool cut = c.what == outcome::conn_error || c.what == outcome::timeout;
    if (cut && c.behind && misled_by(c.behind)) return ++tallies_[behind_excused], true;
    if (const auto it = links_.find(last_conn(c.id)); it != links_.end() && it->second.idle_at.count() >= 0)
      inv_.note("on its connection " + idle_bytes(it->second));
    return false;
  }

  bool judge_answer(std::uint64_t id, std::uint64_t named) {
    if (const auto* m = misled_by(id); m && m->by.names == named) return ++tallies_[wrong_excused], true;
    inv_.note(explain(id));
    return false;
  }

  /// What the watch knows of the connection request `id` last went out on, for a violation.
  std::string explain(std::uint64_t id) const {
    const auto conn = last_conn(id);
    const auto it = links_.find(conn);
    if (it == links_.end()) return "its head never went to an upstream";
    const auto& l = it->second;
    std::string what = "its head last went to " + names_[l.upstream] + " on connection " + std::to_string(conn);
    if (l.idle_at.count() >= 0) what += ", where " + idle_bytes(l);
    if (const auto* m = misled_by(id))
      what += "; the race there excuses only " +
              (m->by.names ? "the answer to #" + std::to_string(m->by.names) : std::string("failures"));
    return what;
  }

  /// What arrived on `l` while no request waited, and when.
  static std::string idle_bytes(const link& l) {
    return describe(l.idle_piece) + " had arrived idle at " + std::to_string(l.idle_at.count() / 1000) +
           " us (not to be used again)";
  }

  static std::string describe(const piece& p) {
    constexpr std::string_view kinds[] = {"the answer", "the early answer", "the late body after the answer",
                                          "a poisoned response after the answer", "garbage after the answer"};
    return std::string(kinds[static_cast<int>(p.is)]) + " to #" + std::to_string(p.request);
  }

  executor& exec_;
  invariants& inv_;
  std::vector<std::string> names_;
  std::vector<endpoint> addresses_;
  std::unordered_map<std::uint64_t, link> links_;     ///< by connection id
  std::unordered_map<std::uint64_t, misled> misled_;  ///< by request id
  std::unordered_map<std::uint64_t, bool> early_;     ///< POSTs answered early: was the answer readable
  std::vector<std::uint64_t> last_conn_;              ///< by request id: the connection its head last went out on
  std::uint64_t tallies_[tally_count] = {};
};

}  // namespace bb::sim
