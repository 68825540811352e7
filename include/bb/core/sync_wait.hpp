#pragma once
/// bb::sync_wait: runs a task that needs no event loop to completion, for tests and
/// start-up code. A task that suspends on I/O would never finish here: drive those with
/// a runtime (bb/asio or the simulator) instead.

#include <bb/core/task.hpp>
#include <coroutine>
#include <optional>
#include <stdexcept>
#include <utility>

namespace bb {

/// Starts `t` on this thread and returns its result; throws std::logic_error when `t`
/// suspends without finishing, since nothing here could resume it.
template <class T>
T sync_wait(task<T> t) {
  struct holder {
    std::optional<detail::non_void_t<T>> value;
    bool done = false;
  };
  holder h;
  auto wrapper = [](task<T> inner, holder& out) -> task<void> {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(inner);
      out.value.emplace();
    } else {
      out.value.emplace(co_await std::move(inner));
    }
    out.done = true;
  }(std::move(t), h);
  auto handle = wrapper.release();
  handle.resume();
  if (!handle.done()) {
    handle.destroy();
    throw std::logic_error("bb::sync_wait: the task suspended and nothing can resume it");
  }
  // The frame goes on every path: take() rethrows the task's exception, which lives in it.
  struct destroy_frame {
    std::coroutine_handle<> f;
    ~destroy_frame() { f.destroy(); }
  } guard{handle};
  handle.promise().take();
  if constexpr (!std::is_void_v<T>) return std::move(*h.value);
}

}  // namespace bb
