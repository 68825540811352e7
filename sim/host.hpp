#pragma once
/// bb::sim::host: a named machine of the simulated network, and the one place where the
/// coroutines running on it are resumed, so that pausing the machine pauses them.

#include <bb/core/net.hpp>
#include <coroutine>
#include <cstdint>
#include <map>
#include <sim/executor.hpp>
#include <string>
#include <vector>

namespace bb::sim {

struct connection;
struct listener;

/// A simulated machine: its address, its listeners and connections, its process state.
struct host {
  std::uint32_t id = 0;
  std::string name;
  ip_address ip;
  /// One-way latency this host adds to every link it is on (drawn once from the seed).
  duration access_latency{0};
  /// Bytes that may be on their way to this host or received and unread, per connection
  /// (its socket buffers): a write towards it completes only as far as this leaves room.
  std::size_t receive_window = 256 * 1024;

  bool crashed = false;
  bool paused = false;
  executor* exec = nullptr;

  /// Listeners by port; several on one port when they all asked for SO_REUSEPORT, in the
  /// order they were bound.
  std::multimap<std::uint16_t, listener*> listeners;
  /// Every connection end on this host that its process has not closed, by (id, side).
  std::map<std::uint64_t, connection*> ends;
  std::uint16_t next_port = 32768;
  std::vector<std::coroutine_handle<>> held;  // resumptions deferred while paused

  /// Resumes `h` soon, or once the host is resumed when it is paused.
  void wake(std::coroutine_handle<> h) {
    if (paused) held.push_back(h);
    else exec->post(h);
  }

  /// The next ephemeral port (32768..60999, wrapping like Linux's default range).
  std::uint16_t ephemeral_port() noexcept {
    const std::uint16_t p = next_port;
    next_port = next_port == 60999 ? 32768 : static_cast<std::uint16_t>(next_port + 1);
    return p;
  }

  /// Stops resuming this host's coroutines (a SIGSTOP): they are held, not lost.
  void pause() noexcept { paused = true; }
  /// Resumes everything held while paused, in the order it was held.
  void resume() {
    paused = false;
    for (auto h : held) exec->post(h);
    held.clear();
  }
};

}  // namespace bb::sim
