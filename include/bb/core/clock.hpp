#pragma once
/// The clock concept: an object (not a static function) that tells the time and lets a
/// task wait for a time point.
///
/// Library code takes its clock as a parameter and never asks the operating system for
/// the time, so the simulator can run the same code against virtual time.
///
/// Time crosses module boundaries in one form: std::chrono::nanoseconds since the epoch of
/// the clock that told it (since_epoch), for instants and durations alike. Only code that
/// holds the clock (the proxy, the session, the checker) keeps its time_point type.

#include <bb/core/awaitable.hpp>
#include <chrono>
#include <concepts>
#include <system_error>

namespace bb {

/// `now()` yields a time point; `sleep_until(tp)` and `sleep_for(d)` yield awaitables that
/// resume with an empty error_code at that time, or with operation_canceled when the
/// awaiting task's cancellation token is stopped first. A cancelled sleeper is resumed
/// later, from the clock's own loop, never inside request_stop(): the stop may come from a
/// frame that the sleeper's resumption would destroy.
template <class C>
concept clock = requires(C& c, typename C::time_point tp, typename C::duration d) {
  typename C::time_point;
  typename C::duration;
  requires std::same_as<typename C::duration, std::chrono::nanoseconds>;
  { c.now() } -> std::same_as<typename C::time_point>;
  { tp - tp } -> std::convertible_to<typename C::duration>;
  { tp + d } -> std::convertible_to<typename C::time_point>;
  { c.sleep_until(tp) } -> awaitable_of<std::error_code>;
  { c.sleep_for(d) } -> awaitable_of<std::error_code>;
};

/// The instant `tp` as the library passes instants between modules: nanoseconds since
/// its clock's epoch.
template <class TimePoint>
constexpr std::chrono::nanoseconds since_epoch(TimePoint tp) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch());
}

}  // namespace bb
