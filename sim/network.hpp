#pragma once
/// bb::sim::network: named hosts joined by links whose segments are timer events.
///
/// The network owns hosts, links, connections and listeners and carries out every fault:
/// a held link parks the segments that reach its far end until it is released (TCP would
/// retransmit them), a partition holds every link between two groups, a crash resets
/// every connection of a host and closes its listeners. Latency comes from the seed: each
/// host draws an access latency once (from its own generator, keyed by its name, so adding
/// a host shifts nobody else) and each segment adds exponential jitter.

#include <algorithm>
#include <bb/core/net.hpp>
#include <bb/core/random.hpp>
#include <bb/core/transport.hpp>
#include <deque>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <sim/connection.hpp>
#include <sim/error.hpp>
#include <sim/executor.hpp>
#include <sim/host.hpp>
#include <sim/trace.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

class network {
public:
  /// A network on `exec` recording into `tr`; `seed` drives every latency it draws.
  network(executor& exec, trace& tr, std::uint64_t seed)
      : exec_(exec), trace_(tr), seed_(seed), jitter_(rng(seed).split()) {}
  network(const network&) = delete;
  network& operator=(const network&) = delete;
  ~network() {
    for (auto* c : all_) delete c;
  }

  /// Jitter mean as a fraction of a link's base latency.
  double jitter_fraction = 0.1;

  /// Adds a host whose access latency is drawn from [lo, hi].
  host& add_host(std::string name, ip_address ip, duration lo, duration hi) {
    if (by_ip_.count(ip)) throw std::invalid_argument("sim: two hosts with one address: " + ip.to_string());
    auto& h = *hosts_.emplace_back(std::make_unique<host>());
    h.id = static_cast<std::uint32_t>(hosts_.size());  // 1-based: 0 means "no host" in traces
    h.name = std::move(name);
    h.ip = ip;
    h.exec = &exec_;
    rng r(seed_ ^ checksum(h.name));
    h.access_latency =
        lo + duration(static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>((hi - lo).count()) + 1)));
    by_ip_[ip] = &h;
    return h;
  }

  [[nodiscard]] host& at(std::uint32_t id) { return *hosts_.at(id - 1); }
  /// The host's name, or "-" for 0 and ids that name no host.
  [[nodiscard]] std::string_view name_of(std::uint32_t id) const {
    return id >= 1 && id <= hosts_.size() ? std::string_view(hosts_[id - 1]->name) : std::string_view("-");
  }
  [[nodiscard]] host* find(const ip_address& ip) {
    auto it = by_ip_.find(ip);
    return it == by_ip_.end() ? nullptr : it->second;
  }
  [[nodiscard]] std::size_t host_count() const noexcept { return hosts_.size(); }
  [[nodiscard]] executor& exec() noexcept { return exec_; }
  [[nodiscard]] class trace& tracer() noexcept { return trace_; }

  /// The directed link from `a` to `b`, made on first use.
  link& between(host& a, host& b) {
    auto [it, fresh] = links_.try_emplace({a.id, b.id});
    if (fresh) {
      it->second.from = &a;
      it->second.to = &b;
      it->second.base = a.access_latency + b.access_latency;
      it->second.jitter_mean =
          duration(static_cast<std::int64_t>(static_cast<double>(it->second.base.count()) * jitter_fraction));
    }
    return it->second;
  }

  // ---- faults ---------------------------------------------------------------------------

  /// Parks every segment reaching `b` from `a` until release(a, b).
  void hold(host& a, host& b) {
    auto& l = between(a, b);
    if (l.held) return;
    l.held = true;
    trace_.add(exec_.now(), ev::hold, a.id, b.id);
  }
  /// Delivers what the link parked (one latency from now) and lets later segments through.
  void release(host& a, host& b) {
    auto& l = between(a, b);
    if (!l.held) return;
    l.held = false;
    trace_.add(exec_.now(), ev::release, a.id, b.id);
    auto parked = std::move(l.parked);
    l.parked.clear();
    for (auto [c, s] : parked) {
      side& to = c->sides[s];
      for (; to.parked > 0; --to.parked) schedule(c, s, l, 0);
      unref(c);  // the parking reference
    }
  }
  /// Holds every link from group `a` to group `b`, and back unless `one_way`.
  void partition(const std::vector<host*>& a, const std::vector<host*>& b, bool one_way = false) {
    for (auto* x : a)
      for (auto* y : b) {
        hold(*x, *y);
        if (!one_way) hold(*y, *x);
      }
  }
  /// Ends a partition made with the same groups.
  void heal(const std::vector<host*>& a, const std::vector<host*>& b) {
    for (auto* x : a)
      for (auto* y : b) release(*x, *y), release(*y, *x);
  }
  /// Limits the link from `a` to `b` to `bytes_per_second` (0: unlimited).
  void set_bandwidth(host& a, host& b, std::uint64_t bytes_per_second) { between(a, b).bandwidth = bytes_per_second; }

  /// The host's process dies: listeners close, every connection end is reset.
  void crash(host& h) {
    if (h.crashed) return;
    h.crashed = true;
    trace_.add(exec_.now(), ev::crash, h.id);
    while (!h.listeners.empty()) close_listener(*h.listeners.begin()->second);
    while (!h.ends.empty()) {
      auto [key, c] = *h.ends.begin();
      abort_side(c, static_cast<int>(key & 1));
    }
    if (h.paused) h.resume();
  }
  /// The host may listen and connect again (its process is started anew by its owner).
  void restart(host& h) {
    h.crashed = false;
    trace_.add(exec_.now(), ev::restart, h.id);
  }
  /// Freezes the host's coroutines; its kernel still receives and accepts.
  void pause(host& h) {
    h.pause();
    trace_.add(exec_.now(), ev::pause, h.id);
  }
  void resume(host& h) {
    h.resume();
    trace_.add(exec_.now(), ev::resume, h.id);
  }

  // ---- plumbing for the transport ---------------------------------------------------------

  /// A new connection from `from` towards `to`, its SYN on the way; nullptr when `to` names
  /// no host.
  connection* open(host& from, const endpoint& to) {
    host* peer = find(to.ip);
    if (!peer) return nullptr;
    auto* c = new connection;
    c->id = next_conn_++;
    c->net = this;
    all_.insert(all_.end(), c);
    c->self = std::prev(all_.end());
    side& a = c->sides[0];
    side& b = c->sides[1];
    a.h = &from;
    a.local = endpoint{from.ip, from.ephemeral_port()};
    a.out = &between(from, *peer);
    a.opened = true;
    b.h = peer;
    b.local = to;
    b.out = &between(*peer, from);
    from.ends[key(c, 0)] = c;
    ++open_ends_;
    trace_.add(exec_.now(), ev::connect, from.id, peer->id, c->id, to.port);
    send(c, 0, segment::syn, {});
    return c;
  }

  /// Queues `bufs` (or a control segment) from side `from` towards the other side.
  void send(connection* c, int from, segment kind, std::span<const const_buffer> bufs) {
    side& to = c->sides[1 - from];
    std::size_t n = 0;
    for (auto b : bufs) {
      to.buf.append(b.data(), b.size());
      n += b.size();
    }
    to.records.push_back({static_cast<std::uint32_t>(n), kind});
    link& l = *c->sides[from].out;
    schedule(c, 1 - from, l, n);
    if (kind == segment::fin) c->sides[from].fin_out = true;
    if (kind == segment::rst) c->sides[from].rst_out = true;
  }

  /// The process closes its end: FIN, or RST when it leaves received bytes unread.
  void close_side(connection* c, int s) {
    side& me = c->sides[s];
    if (me.closed) return;
    if (me.readable() > 0) return reset_side(c, s);  // it finishes the side itself
    if (!me.aborted && !me.rst_in && !me.rst_out && !me.fin_out && me.established) send(c, s, segment::fin, {});
    else if (!me.established && !me.aborted && !me.rst_out && !me.rst_in && s == 0)
      send(c, s, segment::rst, {});  // a connect given up: let the server side learn
    finish_side(c, s);
  }
  /// The process closes its end abortively (SO_LINGER 0): the peer sees a reset.
  void reset_side(connection* c, int s) {
    side& me = c->sides[s];
    if (!me.aborted && !me.rst_in && !me.rst_out) send(c, s, segment::rst, {});
    me.read_pos = me.delivered;
    finish_side(c, s);
  }

  /// Registers `l` on its host; port 0 picks an ephemeral port.
  std::error_code bind(listener& l) {
    if (l.h->crashed) return err(std::errc::network_down);
    if (l.port == 0) do
        l.port = l.h->ephemeral_port();
      while (l.h->listeners.count(l.port));
    const auto [lo, hi] = l.h->listeners.equal_range(l.port);
    for (auto it = lo; it != hi; ++it)
      if (!l.reuse_port || !it->second->reuse_port) return err(std::errc::address_in_use);
    l.h->listeners.emplace_hint(hi, l.port, &l);
    return {};
  }
  /// Stops listening: the backlog is reset, a parked accept wakes with an error.
  void close_listener(listener& l) {
    if (l.closed) return;
    l.closed = true;
    const auto [lo, hi] = l.h->listeners.equal_range(l.port);
    for (auto it = lo; it != hi; ++it)
      if (it->second == &l) {
        l.h->listeners.erase(it);
        break;
      }
    while (!l.backlog.empty()) {
      connection* c = l.backlog.front();
      l.backlog.pop_front();
      c->sides[1].opened = true;  // for the bookkeeping in finish_side
      ++open_ends_;
      reset_side(c, 1);
      unref(c);
    }
    if (auto* w = std::exchange(l.accepter, nullptr)) w->on->wake(w->h);
  }

  /// A listener's backlog hands connection `c` to the process.
  void adopt(connection* c) {
    c->sides[1].opened = true;
    ++open_ends_;
  }

  /// The pipe towards side 1 - `s` may have room, or side `s` may have failed: a write
  /// parked on side `s` goes on.
  static void room(connection* c, int s) {
    if (auto* w = c->sides[s].writer) w->on_room(w->ctx);
  }

  void ref(connection* c) noexcept { ++c->refs; }
  void unref(connection* c) {
    if (--c->refs != 0) return;
    for (auto& s : c->sides)
      if (s.h) s.h->ends.erase(key(c, static_cast<int>(&s - c->sides)));
    all_.erase(c->self);
    if (c->tap) c->tap->freed(*c);
    delete c;
  }

  /// Writes that found the peer's window full and waited for its reader (counted by the
  /// transport when one parks).
  [[nodiscard]] std::uint64_t writes_waited() const noexcept { return writes_waited_; }
  void count_write_wait() noexcept { ++writes_waited_; }

  /// Connections not yet freed, and ends a process opened and has not closed.
  [[nodiscard]] std::size_t live_connections() const noexcept { return all_.size(); }
  [[nodiscard]] std::size_t open_ends() const noexcept { return open_ends_; }
  [[nodiscard]] std::size_t listening() const {
    std::size_t n = 0;
    for (auto& h : hosts_) n += h->listeners.size();
    return n;
  }

private:
  static std::uint64_t key(const connection* c, int s) noexcept { return c->id << 1 | static_cast<std::uint64_t>(s); }

  void finish_side(connection* c, int s) {
    side& me = c->sides[s];
    me.closed = true;
    if (me.opened) --open_ends_;
    trace_.add(exec_.now(), ev::close, me.h->id, 0, c->id, static_cast<std::uint64_t>(s));
    me.h->ends.erase(key(c, s));
    wake_reader(me);
    room(c, s);
    room(c, 1 - s);
  }
  /// The host died under this end: the process's operations fail, the peer gets a RST.
  void abort_side(connection* c, int s) {
    side& me = c->sides[s];
    if (!me.rst_in && !me.rst_out && !me.closed) send(c, s, segment::rst, {});
    me.aborted = true;
    me.read_pos = me.delivered;
    me.h->ends.erase(key(c, s));
    wake_reader(me);
    room(c, s);
    room(c, 1 - s);
  }
  static void wake_reader(side& s) {
    if (auto* w = std::exchange(s.reader, nullptr)) w->on->wake(w->h);
  }

  void schedule(connection* c, int to_side, link& l, std::size_t bytes) {
    const duration now = exec_.now();
    duration start = now;
    if (l.bandwidth) {
      start = std::max(now, l.busy_until);
      start += duration(static_cast<std::int64_t>(bytes * 1'000'000'000ull / l.bandwidth));
      l.busy_until = start;
    }
    duration t = start + l.base;
    if (l.jitter_mean.count() > 0)
      t += duration(static_cast<std::int64_t>(jitter_.exponential(static_cast<double>(l.jitter_mean.count()))));
    side& to = c->sides[to_side];
    t = std::max(t, to.last_delivery);
    to.last_delivery = t;
    ref(c);
    exec_.at(t, event{&deliver_thunk, c, static_cast<std::uint64_t>(to_side)});
  }

  static void deliver_thunk(void* ctx, std::uint64_t s) {
    auto* c = static_cast<connection*>(ctx);
    c->net->deliver(c, static_cast<int>(s));
  }

  void deliver(connection* c, int s) {
    side& me = c->sides[s];
    side& peer = c->sides[1 - s];
    link& l = *peer.out;
    if (l.held) {
      if (me.parked++ == 0) {
        l.parked.emplace_back(c, s);
        ref(c);
      }
      unref(c);
      return;
    }
    const auto r = me.records.front();
    me.records.pop_front();
    const auto now = exec_.now();
    switch (r.kind) {
      case segment::data:
        me.delivered += r.len;
        trace_.add(now, ev::data, me.h->id, peer.h->id, c->id, r.len);
        if (c->tap) c->tap->delivered(*c, s, r.len);
        if (me.closed || me.aborted || me.rst_in) {
          me.read_pos = me.delivered;  // nobody will read it: the kernel answers with RST
          if (!me.rst_out && !me.rst_in) send(c, s, segment::rst, {});
        }
        break;
      case segment::fin:
        me.fin_in = true;
        trace_.add(now, ev::fin, me.h->id, 0, c->id);
        break;
      case segment::rst:
        me.rst_in = true;
        me.read_pos = me.delivered = me.buf.size();
        trace_.add(now, ev::rst, me.h->id, 0, c->id);
        break;
      case segment::syn: {
        auto it = pick_listener(*me.h, me.local.port, peer.local);
        if (me.h->crashed || it == me.h->listeners.end() || me.rst_in) {
          trace_.add(now, ev::refuse, me.h->id, peer.h->id, c->id);
          if (!me.rst_in) send(c, s, segment::rst, {});
          me.closed = true;
        } else {
          me.established = true;
          me.h->ends[key(c, s)] = c;
          ref(c);
          it->second->backlog.push_back(c);
          trace_.add(now, ev::accept, me.h->id, peer.h->id, c->id);
          send(c, s, segment::syn_ack, {});
          if (auto* w = std::exchange(it->second->accepter, nullptr)) w->on->wake(w->h);
        }
        break;
      }
      case segment::syn_ack:
        me.established = true;
        trace_.add(now, ev::established, me.h->id, 0, c->id);
        break;
    }
    if (r.kind != segment::syn) wake_reader(me);
    if (r.kind == segment::rst) room(c, s);           // its writer fails
    if (me.read_pos == me.delivered) room(c, 1 - s);  // bytes discarded, or a reset emptied the pipe
    unref(c);
  }

  /// The listener on `port` that a connection from `from` goes to: the only one, or among
  /// SO_REUSEPORT ones the one a hash of the source address and port picks (as Linux does).
  static std::multimap<std::uint16_t, listener*>::iterator pick_listener(host& h, std::uint16_t port,
                                                                         const endpoint& from) {
    auto [lo, hi] = h.listeners.equal_range(port);
    const auto n = static_cast<std::uint64_t>(std::distance(lo, hi));
    if (n <= 1) return n == 0 ? h.listeners.end() : lo;
    std::uint64_t x = 0xcbf29ce484222325ull;  // FNV-1a over the address's bytes and the port
    for (auto b : from.ip.bytes) x = (x ^ b) * 0x100000001b3ull;
    x = (x ^ from.port) * 0x100000001b3ull;
    std::advance(lo, static_cast<std::ptrdiff_t>(x % n));
    return lo;
  }

  executor& exec_;
  trace& trace_;
  std::uint64_t seed_;
  rng jitter_;
  std::vector<std::unique_ptr<host>> hosts_;
  std::map<ip_address, host*> by_ip_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, link> links_;
  std::list<connection*> all_;
  std::uint64_t next_conn_ = 1;
  std::size_t open_ends_ = 0;
  std::uint64_t writes_waited_ = 0;
};

}  // namespace bb::sim
