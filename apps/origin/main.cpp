// origin: a small HTTP/1.1 origin server for demos and tests, on balancebeam's own runtime.
//
// Modes:
//   fixed  200 with the --body text (default "hello from <bind>\n")
//   echo   200 with the CS110L echo: "METHOD URI HTTP/1.x\n", one "name: value\n" per
//          request header (name lower-cased), "\n", then the request body. A
//          Content-Length body is echoed as received; a chunked body is echoed decoded
//          (the chunk data only, without sizes, extensions or trailers).
//   error  500 with an empty body
// Connections are kept alive and pipelined requests are answered in order. On SIGINT or
// SIGTERM the server stops, prints "origin <bind> served N requests" and exits 0.

#include <cli/parse.hpp>
#include <cli/usage.hpp>
#include <cli/values.hpp>

#include <bb/asio/runtime.hpp>
#include <bb/core/scope.hpp>
#include <bb/http/body.hpp>
#include <bb/http/parser.hpp>

#include <asio/signal_set.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

enum class mode { fixed, echo, error };

constexpr std::string_view to_string(mode m) { return m == mode::echo ? "echo" : m == mode::error ? "error" : "fixed"; }

struct settings {
  bb::endpoint bind;
  mode answer = mode::fixed;
  std::string body;
};

// The command line: the settings the workers share, and what only main() reads.
struct options {
  settings cfg;
  std::optional<std::string> body;  // none: "hello from <the bound address>\n"
  unsigned threads = 1;
};

// "ip:port" or "[v6]:port": origin resolves no names.
struct ip_port {
  using value_type = bb::endpoint;
  [[nodiscard]] std::string expected() const { return "ip:port"; }
  [[nodiscard]] std::string values() const { return "`ip:port` or `[v6]:port`"; }
  bb::cli::parsed<bb::endpoint> operator()(std::string_view text) const {
    if (auto ep = bb::endpoint::parse(text)) return *ep;
    return bb::cli::refusal{"expected " + expected()};
  }
};

std::vector<bb::cli::flag<options>> flag_table() {
  using bb::cli::store;
  const bb::cli::one_of<mode> modes{{{"echo", mode::echo, "200 with the request echoed, as CS110L's echo upstream"},
                                     {"fixed", mode::fixed, "200 with the --body text"},
                                     {"error", mode::error, "500 with an empty body"}}};
  return {
      {.name = "bind",
       .value_name = "ADDRESS",
       .default_value = "127.0.0.1:8080",
       .meaning = "address to listen on ({values})",
       .sets = store(ip_port{}, &options::cfg, &settings::bind)},
      {.name = "mode",
       .value_name = "MODE",
       .default_value = "fixed",
       .meaning = "how every request is answered: {values}",
       .sets = store(modes, &options::cfg, &settings::answer)},
      {.name = "body",
       .value_name = "TEXT",
       .default_shown = "\"hello from <bind>\\n\"",
       .meaning = "the body of fixed mode",
       .sets = store(bb::cli::text{}, &options::body)},
      {.name = "threads",
       .value_name = "N",
       .default_value = "1",
       .meaning = "listener threads ({values}), each with its own SO_REUSEPORT socket",
       .sets = store(bb::cli::whole<unsigned>{1, 256}, &options::threads)},
      {.name = "help", .short_name = 'h', .meaning = "print the flags and exit 0", .request = true},
  };
}

[[noreturn]] void die(int code, const std::string& msg) {
  std::fprintf(stderr, "origin: %s\n", msg.c_str());
  std::exit(code);
}

// The chunk data of a chunked body that body_framer has already validated.
std::string decode_chunked(std::string_view raw) {
  std::string out;
  for (;;) {
    std::size_t size = 0;
    std::from_chars(raw.data(), raw.data() + raw.size(), size, 16);
    raw.remove_prefix(raw.find("\r\n") + 2);
    if (size == 0) return out;  // trailers, if any, are not part of the body
    out.append(raw.substr(0, size));
    raw.remove_prefix(size + 2);
  }
}

std::string make_response(int status, std::string_view reason, std::string_view body, bool close) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + ' ' + std::string(reason) + "\r\n";
  if (!body.empty()) r += "Content-Type: text/plain\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) r += "Connection: close\r\n";
  return r + "\r\n";
}

// One listener and its connections on one thread.
class worker {
public:
  worker(const settings& s, std::atomic<std::uint64_t>& served) : settings_(s), served_(served) {}

  std::error_code listen(const bb::endpoint& at) {
    auto a = transport_.listen(at);
    if (!a) return a.error();
    acceptor_.emplace(std::move(a.value()));
    return {};
  }
  bb::endpoint local_endpoint() const { return acceptor_->local_endpoint(); }

  void start() {
    thread_ = std::thread([this] { bb::asio_rt::run(io_, serve_all()); });
  }
  // Cuts every connection at once: an origin for tests has no requests worth draining.
  void stop_and_join() {
    asio::post(io_, [this] {
      stopping_ = true;
      acceptor_->close();
      tasks_.request_stop();
    });
    thread_.join();
  }

private:
  bb::task<void> serve_all() {
    tasks_.spawn(accept_loop());
    co_await tasks_.join();
  }

  bb::task<void> accept_loop() {
    while (!stopping_) {
      auto r = co_await acceptor_->accept();
      if (stopping_) break;  // a connection accepted just before the stop is dropped
      if (!r) {
        std::fprintf(stderr, "origin: accept failed: %s\n", r.error().message().c_str());
        co_await clock_.sleep_for(std::chrono::milliseconds(100));  // do not spin on EMFILE
        continue;
      }
      tasks_.spawn(serve(std::move(r->stream)));
    }
  }

  bb::task<void> serve(bb::asio_rt::tcp_stream s) {
    try {
      co_await serve_requests(s);
    } catch (const std::exception& e) { std::fprintf(stderr, "origin: connection failed: %s\n", e.what()); }
    s.close();
  }

  // Answers requests one after the other; bytes past a request's end stay in `in` as
  // the start of the next (pipelined) one.
  bb::task<void> serve_requests(bb::asio_rt::tcp_stream& s) {
    bb::http::limits lim;
    lim.max_body_bytes = 16u << 20;  // echo bodies are held in memory
    bb::http::request_parser parser(lim);
    bb::http::request_head head;
    std::string in;
    char chunk[16 * 1024];
    // NOTE: stopping_ is checked before each read because a read started after the stop
    // was requested would not be cancelled by it.
    auto read_more = [&]() -> bb::task<bool> {
      if (stopping_) co_return false;
      auto [ec, n] = co_await s.read_some(chunk);
      if (!ec) in.append(chunk, n);
      co_return !ec;
    };
    for (;;) {
      parser.reset();
      auto r = parser.feed(in, head);
      while (r.st == bb::http::parse_state::need_more) {
        if (!co_await read_more()) co_return;
        r = parser.feed(in, head);
      }
      if (r.st == bb::http::parse_state::failed) co_return co_await refuse(s, r.ec);
      // The head's views point into `in`: take what is needed before it changes.
      const bool keep = head.keep_alive;
      const bool is_head = head.is_head();
      std::string echo;
      if (settings_.answer == mode::echo) {
        echo.append(head.method).append(" ").append(head.target);
        echo.append(head.ver == bb::http::version::http10 ? " HTTP/1.0\n" : " HTTP/1.1\n");
        for (const auto& h : head.headers) {
          for (char c : h.name) echo.push_back(bb::http::detail::to_lower(c));
          echo.append(": ").append(h.value).append("\n");
        }
        echo.push_back('\n');
      }
      if (head.expect_continue && !co_await send(s, "HTTP/1.1 100 Continue\r\n\r\n", {}, false)) co_return;
      auto framer = bb::http::body_framer::for_head(head.body, head.content_length, lim.max_body_bytes);
      in.erase(0, r.head_size);
      std::size_t body_size = 0;
      for (;;) {
        const auto step = framer.consume(std::string_view(in).substr(body_size));
        body_size += step.used;
        if (step.ec) co_return co_await refuse(s, step.ec);
        if (step.done) break;
        if (!co_await read_more()) co_return;
      }
      if (settings_.answer == mode::echo)
        echo += head.body == bb::http::body_kind::chunked ? decode_chunked(std::string_view(in).substr(0, body_size))
                                                          : in.substr(0, body_size);
      in.erase(0, body_size);

      const bool ok = settings_.answer != mode::error;
      std::string_view body = settings_.answer == mode::echo ? echo : settings_.body;
      if (!ok) body = {};
      const auto reply = make_response(ok ? 200 : 500, ok ? "OK" : "Internal Server Error", body, !keep);
      if (!co_await send(s, reply, is_head ? std::string_view{} : body) || !keep) co_return;
    }
  }

  // A request whose framing cannot be trusted: answer its status and close.
  bb::task<void> refuse(bb::asio_rt::tcp_stream& s, std::error_code why) {
    const int status = bb::http::status_for(why);
    co_await send(s, make_response(status, bb::http::reason_phrase(status), {}, true), {});
  }

  bb::task<bool> send(bb::asio_rt::tcp_stream& s, std::string_view head, std::string_view body, bool count = true) {
    const bb::const_buffer b[] = {{head.data(), head.size()}, {body.data(), body.size()}};
    auto [ec, n] = co_await s.write(b);
    if (count) served_.fetch_add(1, std::memory_order_relaxed);
    co_return !ec;
  }

  const settings& settings_;
  std::atomic<std::uint64_t>& served_;
  asio::io_context io_{1};
  bb::asio_rt::steady_clock clock_{io_};
  bb::asio_rt::tcp_transport transport_{io_};
  std::optional<bb::asio_rt::tcp_acceptor> acceptor_;
  bb::scope tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  const auto cli = bb::cli::parse(flag_table(), {argv + 1, argv + argc});
  if (cli.error) die(cli.error->exit_status, cli.error->message);
  if (!cli.request.empty()) {  // --help
    std::fputs(
        bb::cli::help_text("origin: a small HTTP/1.1 origin server for demos and tests.\n\nusage: origin [options]",
                           flag_table())
            .c_str(),
        stdout);
    return 0;
  }
  options opts = cli.settings;
  settings& cfg = opts.cfg;
  const unsigned threads = opts.threads;

  // Caught from here on: a test that signals as soon as the port answers gets the summary.
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);

  std::atomic<std::uint64_t> served{0};
  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned i = 0; i < threads; ++i) {
    auto w = std::make_unique<worker>(cfg, served);
    // Later workers join the first one's port, which matters when --bind asked for port 0.
    if (auto err = w->listen(i == 0 ? cfg.bind : workers[0]->local_endpoint()))
      die(1, "cannot listen on " + cfg.bind.to_string() + ": " + err.message());
    workers.push_back(std::move(w));
  }
  const auto bound = workers[0]->local_endpoint().to_string();
  cfg.body = opts.body ? *opts.body : "hello from " + bound + "\n";
  std::fprintf(stderr, "origin: listening on %s (%s mode, %u thread(s))\n", bound.c_str(),
               std::string(to_string(cfg.answer)).c_str(), threads);

  signals.async_wait([](std::error_code, int) {});
  for (auto& w : workers) w->start();
  signals_io.run();
  for (auto& w : workers) w->stop_and_join();
  std::printf("origin %s served %llu requests\n", bound.c_str(), static_cast<unsigned long long>(served.load()));
  return 0;
}
