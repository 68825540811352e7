#pragma once
/// bb::redis::cluster: a Redis Cluster as one store, over any transport and clock: a
/// pipelined bb::redis::client per node, the slot map learnt with CLUSTER SLOTS, and the
/// redirections (MOVED, ASK) that a caller follows through redirected().
///
/// A key's calls go to the node that owns its slot (bb::redis::key_slot); every call is
/// single-key, so every call is single-slot. A MOVED reply updates that slot at once and
/// asks for the whole map again; an ASK reply names the node importing the slot for this
/// one call (the caller sends ASKING before it). The map is refreshed as well every 10 s,
/// so that a node that joins or leaves is seen without a redirection. Nodes are connected
/// to as the map names them; each keeps its own backoff and breaker.

#include <bb/core/cancel.hpp>
#include <bb/core/clock.hpp>
#include <bb/core/log.hpp>
#include <bb/core/net.hpp>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>
#include <bb/core/with_cancel.hpp>
#include <bb/redis/client.hpp>
#include <bb/redis/config.hpp>
#include <bb/redis/reply.hpp>
#include <bb/redis/slot.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::redis {

/// Where a redirection sends a call: the node, and whether it must be preceded by ASKING.
template <class Client>
struct redirection {
  Client* node = nullptr;  ///< null: not a redirection, or to a node not connected yet
  bool ask = false;
};

/// A MOVED or ASK error reply, read: "MOVED 3999 127.0.0.1:6381".
struct redirect_reply {
  bool ask = false;
  std::uint16_t slot = 0;
  endpoint to;

  /// The redirection `r` says, or nullopt when it is none (or names no IP address).
  static std::optional<redirect_reply> parse(const reply& r) {
    redirect_reply out;
    std::string_view s(r.str);
    if (r.is_error("MOVED ")) s.remove_prefix(6);
    else if (r.is_error("ASK ")) s.remove_prefix(4), out.ask = true;
    else return std::nullopt;
    const auto space = s.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    unsigned slot = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + space, slot);
    if (ec != std::errc{} || end != s.data() + space || slot >= slot_count) return std::nullopt;
    auto ep = endpoint::parse(s.substr(space + 1));
    if (!ep) return std::nullopt;
    out.slot = static_cast<std::uint16_t>(slot);
    out.to = *ep;
    return out;
  }
};

/// The slot map of a CLUSTER SLOTS reply: for each range, the master's address; an empty
/// IP stands for the node that answered (`self`). nullopt when the reply is not one.
inline std::optional<std::vector<std::pair<std::pair<std::uint16_t, std::uint16_t>, endpoint>>> parse_cluster_slots(
    const reply& r, const endpoint& self) {
  if (r.type != reply::kind::array) return std::nullopt;
  std::vector<std::pair<std::pair<std::uint16_t, std::uint16_t>, endpoint>> out;
  for (const auto& range : r.elements) {
    if (range.type != reply::kind::array || range.elements.size() < 3) return std::nullopt;
    const auto& lo = range.elements[0];
    const auto& hi = range.elements[1];
    const auto& master = range.elements[2];
    if (lo.type != reply::kind::integer || hi.type != reply::kind::integer || master.type != reply::kind::array ||
        master.elements.size() < 2 || lo.integer < 0 || hi.integer >= slot_count || lo.integer > hi.integer)
      return std::nullopt;
    const auto& ip = master.elements[0];
    const auto& port = master.elements[1];
    if (ip.type != reply::kind::string || port.type != reply::kind::integer || port.integer <= 0 ||
        port.integer > 65535)
      return std::nullopt;
    endpoint ep = self;
    if (!ip.str.empty()) {
      auto parsed = ip_address::parse(ip.str);
      if (!parsed) return std::nullopt;
      ep.ip = *parsed;
    }
    ep.port = static_cast<std::uint16_t>(port.integer);
    out.push_back({{static_cast<std::uint16_t>(lo.integer), static_cast<std::uint16_t>(hi.integer)}, ep});
  }
  return out;
}

/// A Redis Cluster reached from one worker.
template <transport Transport, clock Clock>
class cluster {
public:
  using client_type = client<Transport, Clock>;
  using time_point = typename Clock::time_point;

  /// A cluster found through `seeds`; `node_config` is every node's client configuration
  /// (password, scripts, timeouts; its name and server are set per node, `label` after
  /// each node's address in log lines).
  cluster(Transport& t, Clock& c, rng random, client_config node_config, std::vector<endpoint> seeds, const logger& log,
          std::string label = {})
      : transport_(t),
        clock_(c),
        random_(random),
        base_(std::move(node_config)),
        seeds_(std::move(seeds)),
        log_(log),
        label_(std::move(label)),
        slots_(slot_count, none) {}
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// Connects to the seeds, learns and keeps the slot map, and keeps every node it names
  /// connected, until stop(). The owner awaits it.
  task<void> run() {
    scope s;
    nodes_scope_ = &s;
    for (const auto& seed : seeds_) node_at(seed);
    s.spawn(refresh_loop(), stop_.token());
    co_await s.join();
    nodes_scope_ = nullptr;
  }

  /// Ends run(): every node's client stops.
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_.request_stop();
    for (auto& n : nodes_) n->client.stop();
  }

  /// The client of the node that owns `key`'s slot; null while the map has no owner for
  /// it (a refresh is then asked for).
  client_type* node_for(std::string_view key) {
    const auto owner = slots_[key_slot(key)];
    if (owner == none) {
      want_refresh();
      return nullptr;
    }
    return &nodes_[owner]->client;
  }

  /// Where the error reply `r` redirects its call: for MOVED the slot's new owner (the map
  /// is updated, and refreshed whole), for ASK the importing node; no node when `r` is no
  /// redirection.
  redirection<client_type> redirected(const reply& r) {
    const auto rr = redirect_reply::parse(r);
    if (!rr) return {};
    const auto i = node_at(rr->to);
    if (!rr->ask) {
      slots_[rr->slot] = i;
      want_refresh();
    }
    return {i == none ? nullptr : &nodes_[i]->client, rr->ask};
  }

  /// Connections completed, all nodes together (a change means a node may have restarted).
  [[nodiscard]] std::uint64_t connects() const noexcept {
    std::uint64_t n = 0;
    for (const auto& each : nodes_) n += each->client.counters().connects;
    return n;
  }
  /// Nodes known (the seeds and those the map named).
  [[nodiscard]] std::size_t nodes() const noexcept { return nodes_.size(); }
  /// Slot maps learnt since start.
  [[nodiscard]] std::uint64_t refreshes() const noexcept { return refreshes_; }
  /// What log lines call the cluster.
  [[nodiscard]] std::string name() const { return "redis cluster" + label_; }

private:
  static constexpr std::uint16_t none = 0xffff;
  static constexpr auto refresh_every = std::chrono::seconds(10);

  struct node {
    node(Transport& t, Clock& c, rng r, client_config cfg, const logger& log) : client(t, c, r, std::move(cfg), log) {}
    client_type client;
  };

  /// The node at `ep`, added (and connected, while running) when new; none when stopping.
  std::uint16_t node_at(const endpoint& ep) {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i]->client.config().server == ep) return static_cast<std::uint16_t>(i);
    if (stopping_ || !nodes_scope_ || nodes_.size() >= none) return none;
    auto cfg = base_;
    cfg.server = ep;
    cfg.name = "redis " + ep.to_string() + label_;
    nodes_.push_back(std::make_unique<node>(transport_, clock_, random_.split(), std::move(cfg), log_));
    nodes_scope_->spawn(nodes_.back()->client.run(), stop_.token());
    return static_cast<std::uint16_t>(nodes_.size() - 1);
  }

  void want_refresh() {
    if (refresh_wanted_) return;
    refresh_wanted_ = true;
    if (refresh_cut_) refresh_cut_->request_stop();
  }

  task<std::error_code> sleep_for(typename Clock::duration d) { co_return co_await clock_.sleep_for(d); }

  /// Learns the map at once, again whenever a redirection or a missing owner asks, and
  /// every refresh_every.
  task<void> refresh_loop() {
    refresh_wanted_ = true;
    while (!stopping_) {
      if (refresh_wanted_) {
        if (co_await refresh()) {
          refresh_wanted_ = false;
        } else {
          co_await sleep_for(std::chrono::milliseconds(50));  // no node ready yet, or a bad answer
          continue;
        }
      }
      cancel_source cut;
      refresh_cut_ = &cut;
      co_await with_cancel(sleep_for(refresh_every), cut);
      refresh_cut_ = nullptr;
      if (!cut.stop_requested()) refresh_wanted_ = true;  // the period passed
    }
  }

  /// One CLUSTER SLOTS through a ready node; true when the map was applied.
  task<bool> refresh() {
    client_type* asked = nullptr;
    for (auto& n : nodes_)
      if (n->client.ready()) {
        asked = &n->client;
        break;
      }
    if (!asked) co_return false;
    waiter w;
    asked->send(
        [](std::string& out) {
          append_command(out, {"CLUSTER", "SLOTS"});
        },
        w, clock_.now() + base_.connect_timeout);
    const auto r = co_await w;
    if (stopping_) co_return false;
    const auto map = r ? parse_cluster_slots(*r, asked->config().server) : std::nullopt;
    if (!map) {
      if (!map_warned_)
        log_.log(log_level::warn,
                 (line{} << name() << ": cannot learn the slot map from " << asked->config().name << ": "
                         << (r ? (r->type == reply::kind::error ? r->str : std::string("not a slot map"))
                               : r.error().message()))
                     .s);
      map_warned_ = true;
      co_return false;
    }
    std::vector<std::uint16_t> slots(slot_count, none);
    std::size_t covered = 0;
    for (const auto& [range, ep] : *map) {
      const auto i = node_at(ep);
      for (std::uint32_t s = range.first; s <= range.second; ++s) slots[s] = i;
      covered += range.second - range.first + 1u;
    }
    const bool changed = slots != slots_;
    slots_ = std::move(slots);
    ++refreshes_;
    map_warned_ = false;
    if (changed)
      log_.log(log_level::info, (line{} << name() << ": slot map of " << map->size() << " range(s), " << covered
                                        << " slots covered, " << nodes_.size() << " node(s) known")
                                    .s);
    co_return true;
  }

  Transport& transport_;
  Clock& clock_;
  rng random_;
  client_config base_;
  std::vector<endpoint> seeds_;
  const logger& log_;
  std::string label_;
  std::vector<std::unique_ptr<node>> nodes_;
  std::vector<std::uint16_t> slots_;  // slot -> index in nodes_, or none
  scope* nodes_scope_ = nullptr;
  cancel_source stop_;
  cancel_source* refresh_cut_ = nullptr;
  bool refresh_wanted_ = false;
  bool map_warned_ = false;
  bool stopping_ = false;
  std::uint64_t refreshes_ = 0;
};

}  // namespace bb::redis
