#pragma once
/// bb::exchange_state: what a session needs only while a request is under way, pooled
/// per worker so that an idle keep-alive connection holds none of it.

#include <bb/http/message.hpp>
#include <bb/http/parser.hpp>
#include <bb/proxy/buffer_pool.hpp>
#include <bb/proxy/config.hpp>
#include <bb/proxy/io_buffer.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace bb {

/// Parsers, parsed heads, the response buffer and the strings one request/response
/// exchange builds; their capacities survive in the pool, so a busy worker stops
/// allocating after its first requests.
struct exchange_state {
  exchange_state(const proxy_config& c, buffer_pool& buffers)
      : req_parser(c.limits), resp_parser(c.limits), resp(buffers) {}

  http::request_parser req_parser;
  http::request_head req;
  http::response_parser resp_parser;
  http::response_head resp_head;
  io_buffer resp;            ///< bytes from the upstream
  std::string out;           ///< a head being sent
  std::string rate_headers;  ///< "X-Request-Id: id\r\n", then "X-RateLimit-...: n\r\n" lines: for every
                             ///< response to this request
  std::string request_id;    ///< the client's valid X-Request-Id, or one the proxy made
  std::string request_line;  ///< "METHOD target", kept for the log line
};

/// A worker's free list of exchange states. Single-threaded.
class exchange_pool {
public:
  exchange_pool(const proxy_config& c, buffer_pool& buffers, std::size_t max_cached)
      : config_(c), buffers_(buffers), max_cached_(max_cached) {}

  /// A fresh or recycled state, reset for a new connection's request.
  std::unique_ptr<exchange_state> take() {
    if (free_.empty()) return std::make_unique<exchange_state>(config_, buffers_);
    auto x = std::move(free_.back());
    free_.pop_back();
    return x;
  }

  /// Returns `x` for reuse; its buffer goes back to the buffer pool.
  void give(std::unique_ptr<exchange_state> x) {
    if (!x) return;
    x->resp.consume(x->resp.size());
    x->resp.release_if_empty();
    x->req_parser.reset();
    x->resp_parser.reset();
    if (free_.size() < max_cached_) free_.push_back(std::move(x));
  }

private:
  const proxy_config& config_;
  buffer_pool& buffers_;
  std::size_t max_cached_;
  std::vector<std::unique_ptr<exchange_state>> free_;
};

}  // namespace bb
