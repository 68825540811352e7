#pragma once
/// bb::splice: relays bytes both ways between two streams until both directions have
/// ended, for a connection that switched protocols (a 101 answer to an Upgrade request).

#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/transport.hpp>
#include <bb/proxy/io_buffer.hpp>

namespace bb {

namespace detail {

/// Copies `from` to `to` through `buf` (which may hold bytes already) until `from` ends,
/// then half-closes `to`; on an error either way, stops the other direction too.
template <byte_stream Stream, class OnProgress>
task<void> splice_one_way(Stream& from, Stream& to, io_buffer& buf, scope& both, OnProgress& progress) {
  for (;;) {
    if (!buf.empty()) {
      const_buffer b[] = {{buf.readable().data(), buf.size()}};
      const auto w = co_await to.write(b);
      buf.consume(buf.size());
      if (w.ec) break;
      progress();
    }
    auto [ec, n] = co_await from.read_some(buf.writable());
    if (ec == errc::eof) {
      static_cast<void>(to.shutdown());  // a peer already gone shows on the other direction's read
      co_return;
    }
    if (ec) break;
    buf.commit(n);
    progress();
  }
  both.request_stop();
}

}  // namespace detail

/// Relays `a` to `b` through `a_to_b` and `b` to `a` through `b_to_a` (each may already
/// hold bytes for its direction) until each direction has ended. An end of stream is
/// passed on as a half close, so a side that stops sending still receives the other's
/// last bytes; an error either way (a reset, a stream closed by a deadline) ends both.
/// `progress()` is called whenever bytes moved, to push an idle deadline back. The
/// streams stay open: the caller closes them.
template <byte_stream Stream, class OnProgress>
task<void> splice(Stream& a, Stream& b, io_buffer& a_to_b, io_buffer& b_to_a, OnProgress progress) {
  scope both(co_await get_cancel_token());
  both.spawn(detail::splice_one_way(a, b, a_to_b, both, progress));
  both.spawn(detail::splice_one_way(b, a, b_to_a, both, progress));
  co_await both.join();
}

}  // namespace bb
