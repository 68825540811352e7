#pragma once
/// bb::sim::event_decoder: turns the proxy's and the checker's traffic to the upstreams, and
/// the cluster's state, into the structured events of sim/events.hpp, once for every
/// observer.
///
/// It taps the proxy's transport (first on its bus) and the checker's. Proxy connections
/// are framed as the proxy must read them: a response head ends at CRLF CRLF, its body runs
/// for its Content-Length, or not at all after a HEAD or for 1xx/204/304, or to the close;
/// bytes that answer no request unframe the connection. A check is judged by its first head.
/// The cluster's state is read before each tapped event and after every event of the
/// executor, so a change is told before anything that follows it.

#include <algorithm>
#include <bb/upstream/cluster.hpp>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <deque>
#include <optional>
#include <sim/connection.hpp>
#include <sim/events.hpp>
#include <sim/executor.hpp>
#include <sim/http_lite.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bb::sim {

class event_decoder {
public:
  /// Decodes traffic to the upstreams at `addresses` of `hosts` into events for `out`;
  /// installs itself as the executor's after-event observer.
  event_decoder(executor& exec, const cluster& hosts, std::vector<endpoint> addresses, event_sink& out)
      : exec_(exec),
        hosts_(hosts),
        addresses_(std::move(addresses)),
        out_(out),
        up_(addresses_.size()),
        proxy_side_(*this, false),
        check_side_(*this, true) {
    for (std::size_t i = 0; i < up_.size(); ++i) up_[i] = hosts_.health(i).up.load(std::memory_order_relaxed);
    exec_.after_each(&event_decoder::after_event, this);
  }
  event_decoder(const event_decoder&) = delete;
  event_decoder& operator=(const event_decoder&) = delete;
  ~event_decoder() { exec_.after_each(nullptr, nullptr); }

  /// The tap to subscribe to the proxy's transport (first, before any judge).
  transport_tap& proxy_tap() noexcept { return proxy_side_; }
  /// The tap to subscribe to the health checker's transport (first).
  transport_tap& check_tap() noexcept { return check_side_; }

  /// Reads the cluster's state once more (at the end of the run).
  void finish() { poll(); }

  /// The status of the head `head` starts with (0 when it is no HTTP/1.x status line).
  static int status_of(std::string_view head) noexcept {
    int status = 0;
    if (head.size() >= 12 && head.starts_with("HTTP/1.")) std::from_chars(head.data() + 9, head.data() + 12, status);
    return status;
  }
  /// The Content-Length of the head `head` (its status line and fields), if it has one.
  static std::optional<std::uint64_t> content_length(std::string_view head) noexcept {
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos; at = head.find("\r\n", at + 2)) {
      const auto line = head.substr(at + 2);
      constexpr std::string_view name = "content-length:";
      if (line.size() < name.size()) continue;
      bool same = true;
      for (std::size_t j = 0; j < name.size() && same; ++j)
        same = static_cast<char>(std::tolower(static_cast<unsigned char>(line[j]))) == name[j];
      if (!same) continue;
      auto v = line.substr(name.size());
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      std::uint64_t n = 0;
      if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc{}) return n;
    }
    return std::nullopt;
  }

private:
  /// What the decoder knows of one connection to an upstream.
  struct conn {
    std::size_t upstream = 0;
    std::uint64_t requests = 0;  ///< request heads sent on it
    std::deque<bool> pending;    ///< each request awaiting its response: whether it was HEAD
    std::string head;            ///< a response head read in part
    std::uint64_t body_left = 0;
    bool lost = false;    ///< bytes came that no request asked for: no longer framed
    bool check = false;   ///< a health check's connection
    bool judged = false;  ///< the check's head was read (or never will be)
  };

  /// One transport's events, told to the decoder with which transport it was.
  struct side final : transport_tap {
    side(event_decoder& decoder, bool is_check) : d(decoder), check(is_check) {}
    void connecting(const endpoint& to) override { d.connecting(check, to); }
    void opened(const connection& c, const endpoint& to) override { d.opened(check, c, to); }
    void wrote(const connection& c, const endpoint&, std::span<const const_buffer> bufs) override {
      d.wrote(c, bufs, false);
    }
    void read(const connection& c, const endpoint&, std::string_view bytes) override { d.read(c, bytes); }
    void write_refused(const connection& c, const endpoint&, std::span<const const_buffer> bufs) override {
      d.wrote(c, bufs, true);
    }
    void freed(const connection& c) override { d.freed(c); }
    event_decoder& d;
    bool check;
  };

  static void after_event(void* self) { static_cast<event_decoder*>(self)->poll(); }
  void poll() {
    for (std::size_t i = 0; i < up_.size(); ++i) {
      const bool now_up = hosts_.health(i).up.load(std::memory_order_relaxed);
      if (now_up == up_[i]) continue;
      up_[i] = now_up;
      out_.host_state(i, now_up);
    }
  }

  [[nodiscard]] std::size_t index_of(const endpoint& e) const noexcept {
    return static_cast<std::size_t>(std::find(addresses_.begin(), addresses_.end(), e) - addresses_.begin());
  }

  void connecting(bool check, const endpoint& to) {
    poll();
    if (const auto i = index_of(to); i < up_.size()) out_.connect_started(i, check);
  }
  void opened(bool check, const connection& c, const endpoint& to) {
    poll();
    const auto i = index_of(to);
    if (i >= up_.size()) return;
    auto& k = conns_[c.id];
    k.upstream = i;
    k.check = check;
    out_.connection_opened(c.id, i, check);
  }
  void freed(const connection& c) {
    poll();
    if (conns_.erase(c.id)) out_.connection_freed(c.id);
  }

  void wrote(const connection& c, std::span<const const_buffer> bufs, bool refused) {
    poll();
    const auto it = conns_.find(c.id);
    if (it == conns_.end() || it->second.check || bufs.empty()) return;
    auto& k = it->second;
    const auto [method, id] = http_lite::request_of(std::string_view(bufs[0].data(), bufs[0].size()));
    if (id == 0) {  // body bytes
      if (!refused) out_.body_sent(c.id, k.upstream);
      return;
    }
    k.pending.push_back(method == "HEAD");
    out_.request_sent({c.id, k.upstream, id, method, k.requests++, refused});
  }

  void read(const connection& c, std::string_view bytes) {
    poll();
    const auto it = conns_.find(c.id);
    if (it == conns_.end()) return;
    auto& k = it->second;
    if (k.check) return read_check(c.id, k, bytes);
    std::string rest;
    while (!bytes.empty() && !k.lost) {
      if (k.body_left > 0) {
        const auto n = std::min<std::uint64_t>(k.body_left, bytes.size());
        k.body_left -= n;
        bytes.remove_prefix(n);
        continue;
      }
      if (k.pending.empty()) {  // bytes that answer nothing: the proxy drops the connection
        lose(c.id, k);
        break;
      }
      k.head.append(bytes);
      bytes = {};
      const auto end = k.head.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (k.head.size() > 65536) lose(c.id, k);
        break;
      }
      const int status = status_of(k.head);
      if (status < 100 || status > 599) {
        lose(c.id, k);
        break;
      }
      out_.response_head(c.id, k.upstream, status, false);
      const bool head_request = k.pending.front();
      if (status >= 200) k.pending.pop_front();
      const auto length = content_length(std::string_view(k.head).substr(0, end + 2));
      k.body_left = head_request || http_lite::bodiless_status(status) ? 0
                    : length                                           ? *length
                                                                       : ~std::uint64_t{0};  // to the close
      rest.assign(k.head, end + 4);
      k.head.clear();
      bytes = rest;
    }
  }

  void read_check(std::uint64_t id, conn& k, std::string_view bytes) {
    if (k.judged) return;
    k.head.append(bytes);
    const bool whole = k.head.find("\r\n\r\n") != std::string::npos;
    if (!whole && k.head.size() < 65536) return;
    k.judged = true;
    out_.response_head(id, k.upstream, whole ? status_of(k.head) : 0, true);
    k.head.clear();
  }

  void lose(std::uint64_t id, conn& k) {
    k.lost = true;
    out_.unframed(id, k.upstream);
  }

  executor& exec_;
  const cluster& hosts_;
  std::vector<endpoint> addresses_;
  event_sink& out_;
  std::vector<bool> up_;  ///< each host's state as last told
  side proxy_side_, check_side_;
  std::unordered_map<std::uint64_t, conn> conns_;
};

}  // namespace bb::sim
