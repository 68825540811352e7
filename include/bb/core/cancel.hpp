#pragma once
/// Single-threaded cancellation: a source that requests stop, tokens that observe it and
/// callbacks that run once when it is requested.
///
/// Unlike std::stop_source this is not thread-safe: every task of a proxy worker runs on
/// one thread, so an intrusive list without atomics keeps the per-I/O registration cost to
/// two pointer writes. Cross-thread stops are posted to the owning thread first.

#include <cassert>
#include <utility>

namespace bb {

class cancel_source;
class cancel_callback_base;

namespace detail {
/// The shared state between a source, its tokens and their callbacks.
struct cancel_state {
  bool requested_ = false;
  cancel_callback_base* head_ = nullptr;
};
}  // namespace detail

/// Observes whether cancellation was requested; a default token never is.
class cancel_token {
public:
  cancel_token() noexcept = default;

  /// True once the source behind this token has requested cancellation.
  [[nodiscard]] bool stop_requested() const noexcept { return state_ && state_->requested_; }

private:
  friend class cancel_source;
  friend class cancel_callback_base;
  explicit cancel_token(detail::cancel_state* s) noexcept : state_(s) {}
  detail::cancel_state* state_ = nullptr;
};

/// A callback registered with a token; it runs at most once, on request_stop(), and never
/// after its destructor has run.
class cancel_callback_base {
public:
  cancel_callback_base(const cancel_callback_base&) = delete;
  cancel_callback_base& operator=(const cancel_callback_base&) = delete;

protected:
  using fn_type = void (*)(cancel_callback_base*) noexcept;
  cancel_callback_base(fn_type fn) noexcept : fn_(fn) {}
  ~cancel_callback_base() { unregister(); }

  /// Registers with `t`; runs the callback at once when stop was already requested.
  void register_with(cancel_token t) noexcept {
    if (!t.state_) return;
    if (t.state_->requested_) {
      fn_(this);
      return;
    }
    state_ = t.state_;
    next_ = state_->head_;
    if (next_) next_->prev_ = this;
    state_->head_ = this;
  }
  void unregister() noexcept {
    if (!state_) return;
    if (prev_) prev_->next_ = next_;
    else state_->head_ = next_;
    if (next_) next_->prev_ = prev_;
    state_ = nullptr;
    prev_ = next_ = nullptr;
  }

private:
  friend class cancel_source;
  fn_type fn_;
  detail::cancel_state* state_ = nullptr;
  cancel_callback_base* prev_ = nullptr;
  cancel_callback_base* next_ = nullptr;
};

/// Runs `F` once when the token's source requests cancellation (RAII registration).
template <class F>
class cancel_callback : public cancel_callback_base {
public:
  cancel_callback(cancel_token t, F f) noexcept : cancel_callback_base(&invoke), f_(std::move(f)) { register_with(t); }

private:
  static void invoke(cancel_callback_base* self) noexcept { static_cast<cancel_callback*>(self)->f_(); }
  F f_;
};

/// Owns a cancellation state; request_stop() runs every registered callback once.
class cancel_source {
public:
  cancel_source() = default;
  cancel_source(const cancel_source&) = delete;
  cancel_source& operator=(const cancel_source&) = delete;
  ~cancel_source() {
    // NOTE: callbacks outliving their source would dangle; detach them instead.
    while (auto* cb = state_.head_) cb->unregister();
  }

  /// A token observing this source.
  [[nodiscard]] cancel_token token() noexcept { return cancel_token(&state_); }
  /// True once request_stop() has been called.
  [[nodiscard]] bool stop_requested() const noexcept { return state_.requested_; }

  /// Requests cancellation and runs the registered callbacks; later calls do nothing.
  void request_stop() noexcept {
    if (state_.requested_) return;
    state_.requested_ = true;
    // A callback may destroy other callbacks (by resuming a coroutine that unwinds), so
    // take one at a time from the head instead of walking a list that can change.
    while (auto* cb = state_.head_) {
      cb->unregister();
      cb->fn_(cb);
    }
  }

private:
  detail::cancel_state state_;
};

}  // namespace bb
