#pragma once
/// bb::admin::server: the admin listener, a small HTTP/1.1 server for operators
/// (/metrics, /ready, /live, ...), apart from the proxy's listener and its limits.
///
/// One request per connection: the head is read within a deadline and a size limit,
/// parsed by the proxy's own strict parser, handed to the handler the application gives,
/// and answered with `Connection: close`. What each path means is the handler's business;
/// this file knows only HTTP. Templates over the transport and clock concepts, like the
/// proxy, so tests drive it over any transport.

#include <bb/core/clock.hpp>
#include <bb/core/log.hpp>
#include <bb/core/net.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <bb/core/transport.hpp>
#include <bb/http/error.hpp>
#include <bb/http/message.hpp>
#include <bb/http/request_parser.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace bb::admin {

/// A request as a handler sees it: its method and the path of its target (no query).
struct request {
  std::string_view method;
  std::string_view path;
};

/// What a handler answers.
struct response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Answers one request; called on the server's thread.
using handler = std::function<response(const request&)>;

/// The admin listener over `Transport` and `Clock`.
template <transport Transport, clock Clock>
class server {
public:
  /// The longest request head accepted (431 past it) and the time a client has to send it.
  static constexpr std::size_t max_head = 8 * 1024;
  static constexpr std::chrono::seconds head_timeout{5};

  /// A server answering with `h`; `t`, `c` and `log` must outlive it.
  server(Transport& t, Clock& c, handler h, const logger& log)
      : transport_(t), clock_(c), handler_(std::move(h)), log_(log) {}

  /// Binds `at`; the error when that fails.
  std::error_code listen(const endpoint& at) {
    auto a = transport_.listen(at);
    if (!a) return a.error();
    acceptor_.emplace(std::move(a.value()));
    return {};
  }

  /// The address bound (the port the system chose when asked for 0); after listen().
  [[nodiscard]] endpoint local_endpoint() const { return acceptor_->local_endpoint(); }

  /// Serves until stop(), then waits for the connections being answered.
  task<void> run() {
    while (!stopping_) {
      auto r = co_await acceptor_->accept();
      if (!r) {
        if (stopping_) break;
        log_.log(log_level::error, "admin: accept failed: " + r.error().message());
        co_await clock_.sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      connections_.spawn(serve(std::move(r->stream)));
    }
    co_await connections_.join();
  }

  /// Stops accepting and cuts the connections being answered; on the server's thread.
  void stop() {
    stopping_ = true;
    if (acceptor_) acceptor_->close();
    connections_.request_stop();
  }

private:
  using stream_type = typename Transport::stream;

  task<void> serve(stream_type s) {
    auto answered = co_await with_timeout(clock_, head_timeout, exchange(s));
    if (!answered) log_.log(log_level::debug, "admin: a client sent no whole request head in time");
    s.close();
  }

  // Reads one head and answers it. (Every answer is a named local moved into send():
  // GCC 12 destroys a braced temporary in a co_await expression twice.)
  task<void> exchange(stream_type& s) {
    std::string in;
    std::array<char, 2048> chunk;
    http::request_parser parser;
    http::request_head head;
    response out;
    bool parsed = false;
    while (!parsed) {
      auto [ec, n] = co_await s.read_some(chunk);
      if (ec) co_return;
      in.append(chunk.data(), n);
      const auto r = parser.feed(in, head);
      if (r.st == http::parse_state::need_more) {
        if (in.size() <= max_head) continue;
        out = {431, "text/plain; charset=utf-8", "request head too large\n"};
        break;
      }
      if (r.st == http::parse_state::failed) {
        log_.log(log_level::info, "admin: bad request: " + r.ec.message());
        out = {http::status_for(r.ec), "text/plain; charset=utf-8", r.ec.message() + "\n"};
        break;
      }
      parsed = true;
    }
    if (parsed) {
      std::string_view path = head.target;
      if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
      try {
        out = handler_(request{head.method, path});
      } catch (const std::exception& e) {
        log_.log(log_level::error, std::string("admin: ") + e.what());
        out = {500, "text/plain; charset=utf-8", "internal error\n"};
      }
    }
    co_await send(s, parsed && head.is_head(), std::move(out));
  }

  task<void> send(stream_type& s, bool head_only, response r) {
    std::string msg = "HTTP/1.1 " + std::to_string(r.status) + ' ' + std::string(http::reason_phrase(r.status)) +
                      "\r\nContent-Type: " + r.content_type + "\r\nContent-Length: " + std::to_string(r.body.size()) +
                      "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
    if (!head_only) msg += r.body;
    const_buffer b[] = {{msg.data(), msg.size()}};
    co_await s.write(b);
    (void)s.shutdown();
  }

  Transport& transport_;
  Clock& clock_;
  handler handler_;
  const logger& log_;
  std::optional<typename Transport::acceptor> acceptor_;
  scope connections_;
  bool stopping_ = false;
};

}  // namespace bb::admin
