#pragma once
/// The state behind a simulated TCP connection, a link between two hosts and a listener.
///
/// A connection has two sides; each side owns the pipe of bytes flowing *towards* it: one
/// buffer in which bytes still in flight and bytes delivered but unread sit together
/// (delivery only moves an offset), and a queue of segment records (data, SYN, SYN-ACK,
/// FIN, RST) whose deliveries are timer events. Segments of one direction are delivered
/// in order, so control records and data can never overtake each other.

#include <bb/core/net.hpp>
#include <bb/core/transport.hpp>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <list>
#include <sim/executor.hpp>
#include <sim/host.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bb::sim {

class network;
struct connection;

/// Watches what one transport sends on the connections it opens (the simulator uses it to
/// see the proxy's traffic to its upstreams without touching the proxy).
struct transport_tap {
  /// The transport starts a connect to `to`.
  virtual void connecting(const endpoint& to) = 0;
  /// That connect opened connection `c` (its handshake begins; it may still be refused).
  virtual void opened(const connection& /*c*/, const endpoint& /*to*/) {}
  /// The transport queued `bufs` on connection `c` (its connecting side), towards `to`.
  virtual void wrote(const connection& c, const endpoint& to, std::span<const const_buffer> bufs) = 0;
  /// A data segment of `bytes` reached side `to_side` of connection `c` (before the
  /// process there is woken to read it).
  virtual void delivered(const connection& /*c*/, int /*to_side*/, std::size_t /*bytes*/) {}
  /// The transport's process read `bytes` from connection `c` (its connecting side), from
  /// `from`: what it got, when it got it.
  virtual void read(const connection& /*c*/, const endpoint& /*from*/, std::string_view /*bytes*/) {}
  /// A write of `bufs` on connection `c` (its connecting side) failed at once: the
  /// connection was already reset, aborted or shut for writing, so nothing went out.
  virtual void write_refused(const connection& /*c*/, const endpoint& /*to*/, std::span<const const_buffer> /*bufs*/) {}
  /// Connection `c` is about to be freed: both ends closed, nothing in flight.
  virtual void freed(const connection& /*c*/) {}

protected:
  ~transport_tap() = default;
};

/// What a segment record carries.
enum class segment : std::uint8_t { data, syn, syn_ack, fin, rst };

/// A coroutine parked on a side (a read, a connect or a write) or on a listener (an accept).
struct waiter {
  std::coroutine_handle<> h;
  host* on = nullptr;
  bool canceled = false;
  /// A parked write: called (with `ctx`) when the pipe it writes into may have room, or its
  /// side may have failed; it goes on writing and wakes the coroutine once it is done.
  void (*on_room)(void* ctx) = nullptr;
  void* ctx = nullptr;
};

/// A directed link between two hosts: its latency, optional bandwidth and hold state.
struct link {
  host* from = nullptr;
  host* to = nullptr;
  duration base{0};
  duration jitter_mean{0};
  /// Bytes per second; 0 means unlimited.
  std::uint64_t bandwidth = 0;
  duration busy_until{0};
  /// While held, segments that reach the far end wait (TCP would retransmit them).
  bool held = false;
  std::vector<std::pair<connection*, int>> parked;  // (connection, receiving side)
};

/// One end of a connection and the pipe of bytes flowing towards it; the pipe holds at most
/// its host's receive_window bytes, and a write waits for room beyond that.
struct side {
  host* h = nullptr;
  endpoint local;
  link* out = nullptr;  // towards the peer

  // Incoming pipe: [read_pos, delivered) is readable, [delivered, buf.size()) in flight.
  std::string buf;
  std::size_t read_pos = 0;
  std::size_t delivered = 0;
  struct record {
    std::uint32_t len;
    segment kind;
  };
  std::deque<record> records;
  std::uint32_t parked = 0;  // deliveries that found the link held
  duration last_delivery{0};

  bool fin_in = false;       // peer sent FIN and it arrived
  bool rst_in = false;       // peer reset the connection
  bool established = false;  // SYN-ACK seen (client) or SYN accepted (server)
  bool opened = false;       // a process holds this end
  bool closed = false;       // the process closed it
  bool aborted = false;      // its host crashed under it
  bool fin_out = false;      // we sent FIN
  bool rst_out = false;      // we sent RST
  waiter* reader = nullptr;  // parked read or connect
  waiter* writer = nullptr;  // parked write: the peer's pipe was full

  /// Bytes towards this side not yet read: in flight and delivered (what its window bounds).
  [[nodiscard]] std::size_t unread() const noexcept { return buf.size() - read_pos; }

  [[nodiscard]] std::size_t readable() const noexcept { return delivered - read_pos; }
};

/// A simulated TCP connection; side 0 connected, side 1 was accepted. Freed by the
/// network once no stream, backlog or pending event refers to it.
struct connection {
  std::uint64_t id = 0;
  side sides[2];
  std::uint32_t refs = 0;
  network* net = nullptr;
  transport_tap* tap = nullptr;           // set when the connecting transport has one
  std::list<connection*>::iterator self;  // its place in the network's list of live connections
};

/// A listening port on a host, owned by a sim::acceptor.
struct listener {
  host* h = nullptr;
  std::uint16_t port = 0;
  std::deque<connection*> backlog;  // established, not yet accepted
  waiter* accepter = nullptr;
  bool closed = false;
  /// SO_REUSEPORT: it shares its port with other listeners that set it; each new
  /// connection goes to one of them by a hash of its source address and port.
  bool reuse_port = false;
};

}  // namespace bb::sim
