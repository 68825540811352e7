#pragma once
/// bb::sim::run: drives a task to completion on the simulator's executor (the simulated
/// counterpart of bb::asio_rt::run), for the scenario runner and tests.

#include <bb/core/task.hpp>
#include <optional>
#include <sim/executor.hpp>
#include <stdexcept>
#include <utility>

namespace bb::sim {

/// Starts `t`, runs `exec` until no event is left or virtual time passes `limit`, and
/// returns the task's result (or rethrows its exception). Throws std::logic_error when
/// the task has not finished by then: something it waits for can never happen.
template <class T>
T run(executor& exec, task<T> t, duration limit = duration::max()) {
  std::optional<bb::detail::non_void_t<T>> out;
  bool done = false;
  auto wrapper = [](task<T> inner, std::optional<bb::detail::non_void_t<T>>& o, bool& d) -> task<void> {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(inner);
      o.emplace();
    } else {
      o.emplace(co_await std::move(inner));
    }
    d = true;
  }(std::move(t), out, done);
  auto h = wrapper.release();
  exec.post(h);
  exec.run(limit);
  if (!h.done()) {
    // NOTE: the frame is leaked on purpose: destroying a suspended task would destroy
    // awaiters that the network or a scope may still point to.
    throw std::logic_error("bb::sim::run: the task did not finish (deadlock, or the time limit passed)");
  }
  h.promise().take();
  h.destroy();
  if constexpr (!std::is_void_v<T>) return std::move(*out);
}

}  // namespace bb::sim
