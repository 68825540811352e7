#pragma once
/// bb::asio_rt::detail::write_awaiter: writes every byte of a gather list, trying one
/// non-blocking sendmsg before involving the event loop.

#include <asio/buffer.hpp>
#include <asio/write.hpp>
#include <bb/asio/detail/io_awaiter.hpp>
#include <bb/asio/socket_types.hpp>
#include <bb/core/result.hpp>
#include <bb/core/transport.hpp>

#include <coroutine>
#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

namespace bb::asio_rt::detail {

/// Writes every byte of `bufs` to a non-blocking socket. Small writes, the common case for
/// a proxy, finish in await_ready() without a trip through the event loop; what the
/// socket did not take goes out with async_write. A stop cancels the socket's operations.
struct write_awaiter : io_awaiter_base<socket_type, io_result> {
  std::span<const const_buffer> bufs_;
  std::size_t total_ = 0;
  std::vector<::asio::const_buffer> rest_;

  bool await_ready() {
    for (auto b : bufs_) total_ += b.size();
    if (bufs_.size() > 8) return false;
    ::asio::const_buffer small[8];
    std::size_t n = 0;
    for (auto b : bufs_) small[n++] = ::asio::const_buffer(b.data(), b.size());
    std::error_code ec;
    const std::size_t done = io_->write_some(std::span(small, n), ec);
    if (!ec && done == total_) {
      r_ = {{}, total_};
      return true;
    }
    if (ec && ec != ::asio::error::would_block && ec != ::asio::error::try_again) {
      r_ = {ec, done};
      return true;
    }
    // Keep what is left for the asynchronous path.
    std::size_t skip = done;
    for (auto b : bufs_) {
      if (skip >= b.size()) {
        skip -= b.size();
        continue;
      }
      rest_.emplace_back(b.data() + skip, b.size() - skip);
      skip = 0;
    }
    return false;
  }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    if (rest_.empty())
      for (auto b : bufs_) rest_.emplace_back(b.data(), b.size());
    std::size_t already = total_;
    for (auto& b : rest_) already -= b.size();
    ::asio::async_write(*io_, rest_, [this, h, already](std::error_code ec, std::size_t n) {
      r_ = {normalize(ec), already + n};
      h.resume();
    });
    arm(h);
  }
  io_result await_resume() noexcept {
    cancel_.reset();
    return r_;
  }
};

}  // namespace bb::asio_rt::detail
