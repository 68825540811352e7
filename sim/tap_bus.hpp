#pragma once
/// bb::sim::tap_bus: one transport's events fanned out to any number of watches.

#include <cstddef>
#include <sim/connection.hpp>
#include <span>
#include <string_view>
#include <vector>

namespace bb::sim {

/// A transport tap that passes every event to each subscribed tap, in the order they
/// subscribed; a watch taps a transport by subscribing, not by holding the next one.
class tap_bus final : public transport_tap {
public:
  /// Adds `t` (which must outlive the bus's use) after the taps already subscribed.
  void subscribe(transport_tap& t) { taps_.push_back(&t); }

  void connecting(const endpoint& to) override {
    for (auto* t : taps_) t->connecting(to);
  }
  void opened(const connection& c, const endpoint& to) override {
    for (auto* t : taps_) t->opened(c, to);
  }
  void wrote(const connection& c, const endpoint& to, std::span<const const_buffer> bufs) override {
    for (auto* t : taps_) t->wrote(c, to, bufs);
  }
  void delivered(const connection& c, int to_side, std::size_t bytes) override {
    for (auto* t : taps_) t->delivered(c, to_side, bytes);
  }
  void read(const connection& c, const endpoint& from, std::string_view bytes) override {
    for (auto* t : taps_) t->read(c, from, bytes);
  }
  void write_refused(const connection& c, const endpoint& to, std::span<const const_buffer> bufs) override {
    for (auto* t : taps_) t->write_refused(c, to, bufs);
  }
  void freed(const connection& c) override {
    for (auto* t : taps_) t->freed(c);
  }

private:
  std::vector<transport_tap*> taps_;
};

}  // namespace bb::sim
