#pragma once
/// The transport concept: how the proxy listens, accepts, connects and moves bytes.
///
/// The real runtime (bb/asio) models it with kernel sockets, the simulator (sim/) with
/// in-memory byte queues between named hosts. Every operation reports failure as a
/// std::error_code value. Awaiting operations observe the awaiting task's cancellation
/// token and finish with operation_canceled when it is stopped.

#include <bb/core/awaitable.hpp>
#include <bb/core/net.hpp>
#include <bb/core/result.hpp>
#include <concepts>
#include <span>
#include <system_error>

namespace bb {

/// A contiguous run of bytes to send; a write takes a sequence of them (gathering).
using const_buffer = std::span<const char>;

/// A connected, bidirectional byte stream.
/// - `read_some(buf)`: at least one byte, or an error; 0 bytes with bb::errc::eof at
///   orderly close. With an empty `buf` it waits until bytes, end-of-stream or an error
///   can be read, and reads nothing: an idle connection need not hold a buffer.
/// - `write(bufs)`: every byte of every buffer in order, or an error.
/// - `shutdown()`: sends end-of-stream (half close); reading goes on.
/// - `close()`: releases the stream at once; pending operations finish with an error.
template <class S>
concept byte_stream = std::movable<S> && requires(S& s, std::span<char> in, std::span<const const_buffer> out) {
  { s.read_some(in) } -> awaitable_of<io_result>;
  { s.write(out) } -> awaitable_of<io_result>;
  { s.shutdown() } -> std::same_as<std::error_code>;
  { s.close() } -> std::same_as<void>;
  { s.is_open() } -> std::convertible_to<bool>;
};

/// A stream that was accepted, with the address of its peer.
template <class Stream>
struct accepted {
  Stream stream;
  endpoint peer;
};

/// A listening endpoint: `accept()` yields the next connection; `close()` stops listening
/// and makes a pending accept finish with an error.
template <class A, class Stream>
concept acceptor_of = std::movable<A> && requires(A& a) {
  { a.accept() } -> awaitable_of<result<accepted<Stream>>>;
  { a.close() } -> std::same_as<void>;
  { a.local_endpoint() } -> std::same_as<endpoint>;
};

/// `listen(ep)` binds and listens at once; `connect(ep)` yields a connected stream.
template <class T>
concept transport = requires(T& t, const endpoint& ep) {
  typename T::stream;
  typename T::acceptor;
  requires byte_stream<typename T::stream>;
  requires acceptor_of<typename T::acceptor, typename T::stream>;
  { t.listen(ep) } -> std::same_as<result<typename T::acceptor>>;
  { t.connect(ep) } -> awaitable_of<result<typename T::stream>>;
};

}  // namespace bb
