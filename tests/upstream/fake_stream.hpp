#pragma once
// A byte_stream for unit tests of code that watches connections: a test delivers bytes, an
// end or a reset to it by hand, and every resumption (a completed or cancelled read) is
// posted to a run queue that the test drains, as the real runtimes defer them.

#include <bb/core/cancel.hpp>
#include <bb/core/error.hpp>
#include <bb/core/result.hpp>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>

#include <algorithm>
#include <coroutine>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace bb::test {

/// Resumptions waiting to run, in the order they were posted.
class run_queue {
public:
  void post(std::coroutine_handle<> h) { q_.push_back(h); }
  /// Resumes everything posted, including what the resumed code posts; how many ran.
  std::size_t run() {
    std::size_t n = 0;
    while (!q_.empty()) {
      auto h = q_.front();
      q_.pop_front();
      h.resume();
      ++n;
    }
    return n;
  }

private:
  std::deque<std::coroutine_handle<>> q_;
};

/// The far end and state of one fake connection, owned by the test.
struct fake_wire {
  int id = 0;
  run_queue* queue = nullptr;
  std::string incoming;  // delivered, not yet read
  bool eof = false;
  bool reset = false;
  bool closed = false;  // the stream side closed it
  std::string written;  // what the stream side wrote
  // A parked read.
  std::coroutine_handle<> reader;
  std::span<char> buf;
  io_result* out = nullptr;

  /// Bytes arrive; a parked read completes (posted).
  void deliver(std::string_view bytes) {
    incoming += bytes;
    complete();
  }
  /// The peer closes its side.
  void finish() {
    eof = true;
    complete();
  }
  /// The peer resets the connection.
  void abort() {
    reset = true;
    complete();
  }
  /// Fills a read from what is there; false when it must wait.
  bool try_read(std::span<char> b, io_result& r) {
    if (closed) return r = {std::make_error_code(std::errc::bad_file_descriptor), 0}, true;
    if (reset) return r = {std::make_error_code(std::errc::connection_reset), 0}, true;
    if (!incoming.empty()) {
      const std::size_t n = std::min(b.size(), incoming.size());
      if (n) std::memcpy(b.data(), incoming.data(), n);
      incoming.erase(0, n);
      return r = {{}, n}, true;
    }
    if (eof) return r = {bb::errc::eof, 0}, true;
    return false;
  }
  void complete() {
    if (!reader || !try_read(buf, *out)) return;
    queue->post(std::exchange(reader, {}));
  }
};

/// One end of a fake connection; see bb::byte_stream.
class fake_stream {
public:
  explicit fake_stream(fake_wire& w) noexcept : w_(&w) {}
  fake_stream(fake_stream&& o) noexcept : w_(std::exchange(o.w_, nullptr)) {}
  fake_stream& operator=(fake_stream&& o) noexcept {
    if (this != &o) {
      close();
      w_ = std::exchange(o.w_, nullptr);
    }
    return *this;
  }
  ~fake_stream() { close(); }

  struct read_awaiter {
    struct unpark {
      read_awaiter* a;
      void operator()() const noexcept {
        if (a->w->reader != a->h) return;
        a->w->reader = {};
        a->r = {std::make_error_code(std::errc::operation_canceled), 0};
        a->w->queue->post(a->h);
      }
    };
    fake_wire* w;
    std::span<char> buf;
    io_result r{};
    std::coroutine_handle<> h;
    std::optional<cancel_callback<unpark>> cancel;
    bool await_ready() { return !w || w->try_read(buf, r); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> hh) {
      h = hh;
      w->reader = hh;
      w->buf = buf;
      w->out = &r;
      cancel.emplace(bb::detail::token_of(hh), unpark{this});
    }
    io_result await_resume() {
      cancel.reset();
      if (!w) return {std::make_error_code(std::errc::bad_file_descriptor), 0};
      return r;
    }
  };
  read_awaiter read_some(std::span<char> buf) noexcept { return read_awaiter{w_, buf, {}, {}, {}}; }

  struct write_awaiter {
    io_result r;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    io_result await_resume() const noexcept { return r; }
  };
  write_awaiter write(std::span<const const_buffer> bufs) {
    if (!w_ || w_->closed) return {{std::make_error_code(std::errc::bad_file_descriptor), 0}};
    std::size_t n = 0;
    for (auto b : bufs) w_->written.append(b.data(), b.size()), n += b.size();
    return {{{}, n}};
  }
  std::error_code shutdown() { return {}; }
  void close() {
    if (!w_) return;
    w_->closed = true;
    if (w_->reader) w_->complete();
    w_ = nullptr;
  }
  [[nodiscard]] bool is_open() const noexcept { return w_ != nullptr; }
  /// Input is there to read (see bb::pending_input_stream).
  [[nodiscard]] bool pending_input() const noexcept { return w_ && (!w_->incoming.empty() || w_->eof || w_->reset); }
  [[nodiscard]] int id() const noexcept { return w_ ? w_->id : 0; }

private:
  fake_wire* w_;
};

static_assert(bb::byte_stream<fake_stream>);

}  // namespace bb::test
