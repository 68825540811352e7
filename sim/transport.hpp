#pragma once
/// bb::sim::transport: the transport concept on the simulated network, for one host.
///
/// Each host gets its own transport, so a connection starts from that host's address and
/// its resumptions go through that host (and stop while it is paused). A write completes
/// once its bytes fit in the peer's receive window (at once unless the peer reads slower
/// than it is sent to); reads park until a delivery, a FIN, a reset or a cancellation. Cancellation never resumes a
/// coroutine inline: it posts the resumption.

#include <bb/core/cancel.hpp>
#include <bb/core/net.hpp>
#include <bb/core/result.hpp>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>
#include <coroutine>
#include <cstring>
#include <optional>
#include <sim/network.hpp>
#include <span>
#include <utility>
#include <vector>

namespace bb::sim {

namespace detail {
/// Unparks `w` from `*slot` and posts its resumption, unless something woke it already.
struct unpark {
  waiter** slot;
  waiter* w;
  void operator()() const noexcept {
    if (*slot != w) return;
    *slot = nullptr;
    w->canceled = true;
    w->on->wake(w->h);
  }
};
using unpark_callback = cancel_callback<unpark>;
}  // namespace detail

/// One end of a simulated connection; see bb::byte_stream for the contract.
class stream {
public:
  /// Takes over one reference to `c` from the caller.
  stream(network& net, connection* c, int s) noexcept : net_(&net), c_(c), side_(s) {}
  stream(stream&& o) noexcept : net_(o.net_), c_(std::exchange(o.c_, nullptr)), side_(o.side_) {}
  stream& operator=(stream&& o) noexcept {
    if (this != &o) {
      release();
      net_ = o.net_;
      c_ = std::exchange(o.c_, nullptr);
      side_ = o.side_;
    }
    return *this;
  }
  ~stream() { release(); }

  struct read_awaiter {
    network* net_;
    connection* c_;
    int side_;
    std::span<char> buf_;
    io_result r_{};
    waiter w_{};
    bool parked_ = false;
    std::optional<detail::unpark_callback> cancel_;

    bool await_ready() { return try_complete(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      auto token = bb::detail::token_of(h);
      if (token.stop_requested()) {
        r_ = {err(std::errc::operation_canceled), 0};
        return false;
      }
      side& me = c_->sides[side_];
      w_ = waiter{h, me.h, false};
      me.reader = &w_;
      parked_ = true;
      net_->ref(c_);
      cancel_.emplace(token, detail::unpark{&me.reader, &w_});
      return true;
    }
    io_result await_resume() {
      if (!parked_) return r_;
      cancel_.reset();
      if (w_.canceled) r_ = {err(std::errc::operation_canceled), 0};
      else if (!try_complete()) r_ = {err(std::errc::io_error), 0};  // woken with nothing to report: a simulator bug
      net_->unref(c_);
      return r_;
    }
    bool try_complete() {
      if (!c_) return r_ = {err(std::errc::bad_file_descriptor), 0}, true;
      side& me = c_->sides[side_];
      if (me.closed) return r_ = {err(std::errc::bad_file_descriptor), 0}, true;
      if (me.aborted) return r_ = {err(std::errc::connection_aborted), 0}, true;
      if (me.rst_in) return r_ = {err(std::errc::connection_reset), 0}, true;
      if (const std::size_t avail = me.readable(); avail > 0) {
        const std::size_t n = std::min(avail, buf_.size());
        if (n > 0) std::memcpy(buf_.data(), me.buf.data() + me.read_pos, n);  // an empty buf_ may be null
        me.read_pos += n;
        compact(me);
        network::room(c_, 1 - side_);  // a write parked on the full pipe goes on
        if (n > 0 && c_->tap && side_ == 0) c_->tap->read(*c_, c_->sides[1].local, std::string_view(buf_.data(), n));
        return r_ = {{}, n}, true;
      }
      if (me.fin_in) return r_ = {eof(), 0}, true;
      return false;  // an empty buf_ waits too (the concept's idle wait): bytes complete it
    }
    static void compact(side& me) {
      if (me.read_pos == me.buf.size()) {
        me.buf.clear();
        me.read_pos = me.delivered = 0;
      } else if (me.read_pos > 4096 && me.read_pos * 2 > me.buf.size()) {
        me.buf.erase(0, me.read_pos);
        me.delivered -= me.read_pos;
        me.read_pos = 0;
      }
    }
  };
  /// At least one byte, or an error; 0 bytes with sim::eof() after the peer's FIN.
  read_awaiter read_some(std::span<char> buf) noexcept { return read_awaiter{net_, c_, side_, buf, {}, {}, false, {}}; }

  /// Completes once every byte is queued on the link (at once while the peer's window has
  /// room; otherwise as its reader makes room), or with an error and the bytes queued
  /// before it: a reset or a crash, or operation_canceled on cancellation.
  struct write_awaiter {
    stream* s_;
    std::span<const const_buffer> bufs_;
    std::size_t done_ = 0;  // bytes queued so far
    io_result r_{};
    connection* parked_on_ = nullptr;
    waiter w_{};
    std::optional<detail::unpark_callback> cancel_;

    bool await_ready() { return s_->push(*this); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      auto token = bb::detail::token_of(h);
      if (token.stop_requested()) {
        r_ = {err(std::errc::operation_canceled), done_};
        return false;
      }
      side& me = s_->c_->sides[s_->side_];
      w_ = waiter{h, me.h, false, &on_room, this};
      me.writer = &w_;
      parked_on_ = s_->c_;
      s_->net_->ref(parked_on_);
      s_->net_->count_write_wait();
      cancel_.emplace(token, detail::unpark{&me.writer, &w_});
      return true;
    }
    io_result await_resume() {
      if (!parked_on_) return r_;
      cancel_.reset();
      if (w_.canceled) r_ = {err(std::errc::operation_canceled), done_};
      s_->net_->unref(std::exchange(parked_on_, nullptr));
      return r_;
    }
    static void on_room(void* ctx) {
      auto& a = *static_cast<write_awaiter*>(ctx);
      if (!a.s_->push(a)) return;
      a.parked_on_->sides[a.s_->side_].writer = nullptr;
      a.w_.on->wake(a.w_.h);
    }
  };
  write_awaiter write(std::span<const const_buffer> bufs) noexcept {
    return write_awaiter{this, bufs, 0, {}, nullptr, {}, {}};
  }

  /// Sends FIN; reading goes on.
  std::error_code shutdown() {
    if (auto ec = usable()) return ec;
    side& me = c_->sides[side_];
    if (!me.fin_out) net_->send(c_, side_, segment::fin, {});
    return {};
  }
  /// Closes this end: FIN, or RST when received bytes are left unread.
  void close() { release(); }
  /// Closes this end abortively: the peer sees a reset (SO_LINGER 0; not in the concept).
  void reset() {
    if (c_) {
      net_->reset_side(c_, side_);
      net_->unref(std::exchange(c_, nullptr));
    }
  }
  [[nodiscard]] bool is_open() const noexcept { return c_ != nullptr; }
  /// True when a read would complete at once: bytes, an end of stream or a reset have
  /// arrived (see bb::pending_input_stream; a pooled connection with any is not reused).
  [[nodiscard]] bool pending_input() const noexcept {
    if (!c_) return false;
    const side& me = c_->sides[side_];
    return me.readable() > 0 || me.fin_in || me.rst_in || me.aborted;
  }

  /// Both addresses of the connection (for tests and traces).
  [[nodiscard]] endpoint local_endpoint() const { return c_->sides[side_].local; }
  [[nodiscard]] endpoint remote_endpoint() const { return c_->sides[1 - side_].local; }
  [[nodiscard]] std::uint64_t id() const noexcept { return c_ ? c_->id : 0; }

private:
  std::error_code usable() const {
    if (!c_) return err(std::errc::bad_file_descriptor);
    const side& me = c_->sides[side_];
    if (me.aborted) return err(std::errc::connection_aborted);
    if (me.rst_in) return err(std::errc::connection_reset);
    return {};
  }
  /// Queues as much of `a`'s bytes as the peer's window has room for; true once the write
  /// is over (every byte queued, or an error in `a.r_`).
  bool push(write_awaiter& a) {
    const bool fresh = a.done_ == 0;  // nothing went out yet: a failure refuses the whole write
    if (auto ec = usable()) return a.r_ = fresh ? refused(a.bufs_, ec) : io_result{ec, a.done_}, true;
    const side& me = c_->sides[side_];
    if (me.closed) return a.r_ = {err(std::errc::bad_file_descriptor), a.done_}, true;
    if (me.fin_out || me.rst_out) {
      const auto ec = err(std::errc::broken_pipe);
      return a.r_ = fresh ? refused(a.bufs_, ec) : io_result{ec, a.done_}, true;
    }
    std::size_t total = 0;
    for (auto b : a.bufs_) total += b.size();
    const side& to = c_->sides[1 - side_];
    const std::size_t window = to.h->receive_window, unread = to.unread();
    const std::size_t room = unread < window ? window - unread : 0;
    const std::size_t take = std::min(room, total - a.done_);
    if (total == 0) {
      // nothing to send
    } else if (take == total) {  // the common case: all of it, at once
      net_->send(c_, side_, segment::data, a.bufs_);
      if (c_->tap && side_ == 0) c_->tap->wrote(*c_, c_->sides[1].local, a.bufs_);
    } else if (take > 0) {
      std::vector<const_buffer> part;
      std::size_t skip = a.done_, left = take;
      for (auto b : a.bufs_) {
        if (skip >= b.size()) {
          skip -= b.size();
          continue;
        }
        const std::size_t n = std::min(b.size() - skip, left);
        part.emplace_back(b.data() + skip, n);
        skip = 0;
        left -= n;
        if (left == 0) break;
      }
      net_->send(c_, side_, segment::data, part);
      if (c_->tap && side_ == 0) c_->tap->wrote(*c_, c_->sides[1].local, part);
    }
    a.done_ += take;
    if (a.done_ < total) return false;
    a.r_ = {{}, total};
    return true;
  }
  io_result refused(std::span<const const_buffer> bufs, std::error_code ec) {
    if (c_ && c_->tap && side_ == 0) c_->tap->write_refused(*c_, c_->sides[1].local, bufs);
    return {ec, 0};
  }
  void release() {
    if (!c_) return;
    net_->close_side(c_, side_);
    net_->unref(std::exchange(c_, nullptr));
  }

  network* net_;
  connection* c_;
  int side_;
};

static_assert(bb::byte_stream<stream>);

/// A listening port on a simulated host; see bb::acceptor_of for the contract.
class acceptor {
public:
  acceptor(network& net, std::unique_ptr<listener> l) noexcept : net_(&net), l_(std::move(l)) {}
  acceptor(acceptor&&) noexcept = default;
  acceptor& operator=(acceptor&& o) noexcept {
    if (this != &o) {
      close();
      net_ = o.net_;
      l_ = std::move(o.l_);
    }
    return *this;
  }
  ~acceptor() { close(); }

  struct accept_awaiter {
    network* net_;
    listener* l_;
    waiter w_{};
    bool parked_ = false;
    std::optional<detail::unpark_callback> cancel_;

    bool await_ready() const noexcept { return l_->closed || !l_->backlog.empty(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      auto token = bb::detail::token_of(h);
      if (token.stop_requested()) {
        w_.canceled = true;
        return false;
      }
      w_ = waiter{h, l_->h, false};
      l_->accepter = &w_;
      parked_ = true;
      cancel_.emplace(token, detail::unpark{&l_->accepter, &w_});
      return true;
    }
    result<accepted<stream>> await_resume() {
      cancel_.reset();
      if (w_.canceled) return err(std::errc::operation_canceled);
      if (l_->closed) return err(std::errc::bad_file_descriptor);
      if (l_->backlog.empty()) return err(std::errc::resource_unavailable_try_again);
      connection* c = l_->backlog.front();
      l_->backlog.pop_front();
      net_->adopt(c);
      return accepted<stream>{stream(*net_, c, 1), c->sides[0].local};
    }
  };
  /// The next connection and the address it came from.
  accept_awaiter accept() noexcept { return accept_awaiter{net_, l_.get(), {}, false, {}}; }

  /// Stops listening: queued connections are reset, a parked accept fails.
  void close() {
    if (l_) net_->close_listener(*l_);
  }
  [[nodiscard]] endpoint local_endpoint() const { return endpoint{l_->h->ip, l_->port}; }

private:
  network* net_;
  std::unique_ptr<listener> l_;
};

static_assert(bb::acceptor_of<acceptor, stream>);

/// Listens and connects from one simulated host.
class transport {
public:
  using stream = sim::stream;
  using acceptor = sim::acceptor;

  transport(network& net, host& h) noexcept : net_(&net), h_(&h) {}

  /// Listens with SO_REUSEPORT from now on, as the Asio transport always does: several
  /// transports (a proxy's workers) may then listen on one port of the host.
  void set_reuse_port(bool on) noexcept { reuse_port_ = on; }

  /// Listens on `ep`'s port; its address must be the host's own or the unspecified one.
  result<acceptor> listen(const endpoint& ep) {
    if (ep.ip != h_->ip && ep.ip != ip_address{}) return err(std::errc::address_not_available);
    auto l = std::make_unique<listener>();
    l->h = h_;
    l->port = ep.port;
    l->reuse_port = reuse_port_;
    if (auto ec = net_->bind(*l)) return ec;
    return acceptor(*net_, std::move(l));
  }

  struct connect_awaiter {
    network* net_;
    host* h_;
    transport_tap* tap_;
    endpoint to_;
    connection* c_ = nullptr;
    std::error_code early_;
    waiter w_{};
    std::optional<detail::unpark_callback> cancel_;

    bool await_ready() {
      if (h_->crashed) return early_ = err(std::errc::network_down), true;
      if (tap_) tap_->connecting(to_);
      c_ = net_->open(*h_, to_);
      if (!c_) return early_ = err(std::errc::host_unreachable), true;
      c_->tap = tap_;
      if (tap_) tap_->opened(*c_, to_);
      net_->ref(c_);
      return false;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      auto token = bb::detail::token_of(h);
      if (token.stop_requested()) {
        w_.canceled = true;
        return false;
      }
      side& me = c_->sides[0];
      w_ = waiter{h, h_, false};
      me.reader = &w_;
      cancel_.emplace(token, detail::unpark{&me.reader, &w_});
      return true;
    }
    result<stream> await_resume() {
      cancel_.reset();
      if (early_) return early_;
      stream s(*net_, c_, 0);  // closes (and resets the half-open connection) on error paths
      const side& me = c_->sides[0];
      if (w_.canceled) return err(std::errc::operation_canceled);
      if (me.aborted) return err(std::errc::connection_aborted);
      if (me.rst_in) return err(me.established ? std::errc::connection_reset : std::errc::connection_refused);
      if (!me.established) return err(std::errc::io_error);
      return s;
    }
  };
  /// A stream connected to `ep`; connection_refused when nothing listens there.
  connect_awaiter connect(const endpoint& ep) noexcept {
    return connect_awaiter{net_, h_, tap_, ep, nullptr, {}, {}, {}};
  }

  /// Shows `t` every connect this transport starts and every byte it sends on the
  /// connections it opened (nullptr: none); `t` must outlive those connections.
  void set_tap(transport_tap* t) noexcept { tap_ = t; }

  [[nodiscard]] host& owner() const noexcept { return *h_; }
  [[nodiscard]] network& net() const noexcept { return *net_; }

private:
  network* net_;
  host* h_;
  transport_tap* tap_ = nullptr;
  bool reuse_port_ = false;
};

static_assert(bb::transport<transport>);

}  // namespace bb::sim
