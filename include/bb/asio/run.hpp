#pragma once
/// bb::asio_rt::run: drives a task to completion on an io_context (the real runtime's
/// counterpart of sync_wait), for main() and tests.

#include <asio/io_context.hpp>
#include <bb/core/task.hpp>
#include <coroutine>
#include <optional>
#include <stdexcept>
#include <utility>

namespace bb::asio_rt {

/// Starts `t` on `ctx`, runs `ctx` until `t` finishes, and returns its result (or
/// rethrows its exception). Other work on `ctx` runs meanwhile.
template <class T>
T run(::asio::io_context& ctx, task<T> t) {
  std::optional<bb::detail::non_void_t<T>> out;
  bool done = false;
  auto wrapper = [](task<T> inner, std::optional<bb::detail::non_void_t<T>>& o, bool& d,
                    ::asio::io_context& c) -> task<void> {
    struct finish {
      bool& d_;
      ::asio::io_context& c_;
      ~finish() {
        d_ = true;
        c_.stop();
      }
    } f{d, c};
    if constexpr (std::is_void_v<T>) {
      co_await std::move(inner);
      o.emplace();
    } else {
      o.emplace(co_await std::move(inner));
    }
  }(std::move(t), out, done, ctx);
  auto h = wrapper.release();
  ctx.restart();
  h.resume();
  if (!done) ctx.run();
  ctx.restart();
  if (!done) {
    h.destroy();
    throw std::logic_error("bb::asio_rt::run: the io_context ran out of work before the task finished");
  }
  // The frame goes on every path: take() rethrows the task's exception, which lives in it.
  struct destroy_frame {
    std::coroutine_handle<> f;
    ~destroy_frame() { f.destroy(); }
  } guard{h};
  h.promise().take();
  if constexpr (!std::is_void_v<T>) return std::move(*out);
}

}  // namespace bb::asio_rt
