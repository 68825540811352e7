#pragma once
/// bb::asio_rt::socket_type, acceptor_type: the Asio socket types every implementation of
/// the runtime's streams and listeners is built on.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

namespace bb::asio_rt {

// NOTE: bound to io_context's own executor type, not any_io_executor: each socket is then
// 40 bytes smaller and dispatch skips a type-erased call. Idle connections add up.

/// A TCP stream socket on an io_context.
using socket_type = ::asio::basic_stream_socket<::asio::ip::tcp, ::asio::io_context::executor_type>;
/// A TCP listening socket on an io_context.
using acceptor_type = ::asio::basic_socket_acceptor<::asio::ip::tcp, ::asio::io_context::executor_type>;

}  // namespace bb::asio_rt
