#pragma once
/// bb::sim::events: what a run's observers hear as structured events instead of bytes: the
/// clients' requests issued and resolved, the proxy's connects, request heads and response heads towards its upstreams,
/// the active checker's checks and their verdict heads, and the cluster's state changes.
///
/// sim/event_decoder.hpp makes the upstream-side ones once, from the transports' bytes and
/// the cluster, for every observer; the world passes on the requests' from the invariants.
/// An observer implements the events it needs and subscribes to the bus.

#include <cstddef>
#include <cstdint>
#include <sim/executor.hpp>
#include <sim/invariants.hpp>
#include <string_view>
#include <vector>

namespace bb::sim {

/// A request head the proxy wrote to an upstream.
struct sent_head {
  std::uint64_t conn = 0;     ///< the connection it went on
  std::size_t upstream = 0;   ///< the host, by its index in the cluster
  std::uint64_t request = 0;  ///< the client request it carries (sim request ids)
  std::string_view method;    ///< its method (valid during the call only)
  std::uint64_t nth = 0;      ///< heads written on the connection before it (0: its first)
  bool refused = false;       ///< the write failed at once: nothing went out
};

/// Receives a run's structured events; every one has a default that ignores it.
class event_sink {
public:
  /// A client issued request `id` from client host `client` (the network's host id).
  virtual void request_issued(std::uint64_t /*id*/, std::uint32_t /*client*/) {}
  /// Request `c.id` got its first outcome, `latency` after it was issued.
  virtual void request_resolved(const claim& /*c*/, duration /*latency*/) {}
  /// The proxy (`check`: the active checker) starts a connect to `upstream`.
  virtual void connect_started(std::size_t /*upstream*/, bool /*check*/) {}
  /// That connect opened connection `conn` (its handshake may still be refused).
  virtual void connection_opened(std::uint64_t /*conn*/, std::size_t /*upstream*/, bool /*check*/) {}
  /// Connection `conn` is freed: both ends closed, nothing in flight.
  virtual void connection_freed(std::uint64_t /*conn*/) {}
  /// The proxy wrote a request head to an upstream (never for checks).
  virtual void request_sent(const sent_head& /*h*/) {}
  /// The proxy wrote body bytes of the request `conn` carries (never for checks).
  virtual void body_sent(std::uint64_t /*conn*/, std::size_t /*upstream*/) {}
  /// A whole response head of `status` came from `upstream` on `conn` and was read: for the
  /// proxy every head it framed (interim ones included), for a check only the first (status
  /// 0 when no head ended within 64 KiB).
  virtual void response_head(std::uint64_t /*conn*/, std::size_t /*upstream*/, int /*status*/, bool /*check*/) {}
  /// Bytes that answer no request came on `conn`: nothing more on it is framed.
  virtual void unframed(std::uint64_t /*conn*/, std::size_t /*upstream*/) {}
  /// The cluster now holds `upstream` up (or down); told once per change seen.
  virtual void host_state(std::size_t /*upstream*/, bool /*up*/) {}

protected:
  ~event_sink() = default;
};

/// Passes every event to each subscribed sink, in the order they subscribed.
class event_bus final : public event_sink {
public:
  /// Adds `s` (which must outlive the bus's use) after the sinks already subscribed.
  void subscribe(event_sink& s) { sinks_.push_back(&s); }

  void request_issued(std::uint64_t id, std::uint32_t client) override {
    for (auto* s : sinks_) s->request_issued(id, client);
  }
  void request_resolved(const claim& c, duration latency) override {
    for (auto* s : sinks_) s->request_resolved(c, latency);
  }
  void connect_started(std::size_t upstream, bool check) override {
    for (auto* s : sinks_) s->connect_started(upstream, check);
  }
  void connection_opened(std::uint64_t conn, std::size_t upstream, bool check) override {
    for (auto* s : sinks_) s->connection_opened(conn, upstream, check);
  }
  void connection_freed(std::uint64_t conn) override {
    for (auto* s : sinks_) s->connection_freed(conn);
  }
  void request_sent(const sent_head& h) override {
    for (auto* s : sinks_) s->request_sent(h);
  }
  void body_sent(std::uint64_t conn, std::size_t upstream) override {
    for (auto* s : sinks_) s->body_sent(conn, upstream);
  }
  void response_head(std::uint64_t conn, std::size_t upstream, int status, bool check) override {
    for (auto* s : sinks_) s->response_head(conn, upstream, status, check);
  }
  void unframed(std::uint64_t conn, std::size_t upstream) override {
    for (auto* s : sinks_) s->unframed(conn, upstream);
  }
  void host_state(std::size_t upstream, bool up) override {
    for (auto* s : sinks_) s->host_state(upstream, up);
  }

private:
  std::vector<event_sink*> sinks_;
};

}  // namespace bb::sim
