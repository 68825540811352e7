#pragma once
// A real redis-server for the loopback tests, on a free loopback port, without persistence
// (--save '' --appendonly no), stopped (SIGKILL) by the destructor; and a blocking client
// for the test's own commands (the encoder and hiredis's reader the proxy uses).
//
// redis-server must be installed (scripts/install-deps installs it): a test that needs it
// fails with a message saying so, never skips.

#include "child_process.hpp"
#include "socket.hpp"

#include <bb/redis/command.hpp>
#include <bb/redis/reader.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bb_test {

/// A blocking connection to a Redis server, for the test's own commands.
class redis_connection {
public:
  explicit redis_connection(std::uint16_t port) : s_(try_connect(port)) {
    if (!s_) throw std::runtime_error("cannot connect to redis on port " + std::to_string(port));
  }

  /// Sends one command and reads its reply (bounded by io_timeout).
  bb::redis::reply call(std::initializer_list<std::string_view> args) {
    send_all(s_.get(), bb::redis::command(args));
    return read();
  }
  /// Sends a command already encoded and reads its reply.
  bb::redis::reply call_raw(std::string_view bytes) {
    send_all(s_.get(), bytes);
    return read();
  }
  /// Sends one command without reading its reply (one that blocks the server, say).
  void send(std::initializer_list<std::string_view> args) { send_all(s_.get(), bb::redis::command(args)); }
  /// Reads the next reply.
  bb::redis::reply read() {
    for (;;) {
      if (auto r = reader_.next()) return r->value();
      char buf[4096];
      const auto n = ::recv(s_.get(), buf, sizeof buf, 0);
      if (n <= 0) throw std::runtime_error("redis closed the connection or timed out");
      (void)reader_.feed({buf, static_cast<std::size_t>(n)});
    }
  }

private:
  unique_fd s_;
  bb::redis::reply_reader reader_;
};

/// redis-server on 127.0.0.1:port(), started by the constructor.
class redis_server {
public:
  /// A server with the test's usual options and `extra` ones (`--requirepass`, say);
  /// with `cluster`, a node of a Redis Cluster (not joined to any yet).
  explicit redis_server(std::vector<std::string> extra = {}, bool cluster = false)
      : extra_(std::move(extra)), cluster_(cluster) {
    start();
  }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;
  ~redis_server() {
    child_.reset();
    if (cluster_) std::remove(nodes_file().c_str());
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_->port(); }
  /// "redis://127.0.0.1:PORT".
  [[nodiscard]] std::string url() const { return "redis://" + port_->address(); }

  /// One command on a fresh connection, and its reply.
  bb::redis::reply call(std::initializer_list<std::string_view> args) const {
    return redis_connection(port()).call(args);
  }

  /// Kills the server at once (SIGKILL): its state is lost, its connections reset.
  void kill() { child_.reset(); }
  /// Starts it again on the same port, empty.
  void restart() {
    kill();
    start(false);
  }
  /// The server's process, while it runs.
  [[nodiscard]] child_process& child() { return *child_; }

private:
  static std::string program() {
    for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
      if (::access(p, X_OK) == 0) return p;
    throw std::runtime_error("redis-server is not installed: run scripts/install-deps (Debian's redis-server)");
  }

  void start(bool new_port = true) {
    if (new_port) port_ = std::make_unique<port_reservation>();
    std::vector<std::string> args{"--port",
                                  std::to_string(port()),
                                  "--bind",
                                  "127.0.0.1",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  "no",
                                  "--protected-mode",
                                  "no",
                                  "--enable-debug-command",
                                  "local",
                                  "--dir",
                                  "/tmp",
                                  "--logfile",
                                  ""};
    args.insert(args.end(), extra_.begin(), extra_.end());
    if (cluster_) args.insert(args.end(), {"--cluster-enabled", "yes", "--cluster-config-file", nodes_file()});
    child_ = std::make_unique<child_process>(program(), args);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (child_->poll()) break;
      if (try_connect(port(), std::chrono::milliseconds(200))) {
        try {
          const auto pong = call({"PING"});
          if (pong.str == "PONG" || pong.is_error("NOAUTH")) return;
        } catch (const std::exception&) {}
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("redis-server did not start on port " + std::to_string(port()) + ": " + child_->out() +
                             child_->err());
  }

  std::string nodes_file() const { return "/tmp/bb-test-nodes-" + std::to_string(port()) + ".conf"; }

  std::vector<std::string> extra_;
  bool cluster_ = false;
  std::unique_ptr<port_reservation> port_;
  std::unique_ptr<child_process> child_;
};

/// Three redis-server nodes joined into a Redis Cluster (no replicas) by
/// `redis-cli --cluster create`, ready once every node says cluster_state:ok.
class redis_cluster {
public:
  redis_cluster() {
    for (int i = 0; i < 3; ++i) nodes_.push_back(std::make_unique<redis_server>(std::vector<std::string>{}, true));
    std::vector<std::string> args{"--cluster", "create"};
    for (auto& n : nodes_) args.push_back("127.0.0.1:" + std::to_string(n->port()));
    args.insert(args.end(), {"--cluster-replicas", "0", "--cluster-yes"});
    child_process create(cli(), args);
    const auto st = create.wait_for(std::chrono::seconds(30));
    if (!st || !(*st == exit_code(0)))
      throw std::runtime_error("redis-cli --cluster create failed: " + create.out() + create.err());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (auto& n : nodes_)
      while (n->call({"CLUSTER", "INFO"}).str.find("cluster_state:ok") == std::string::npos) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the cluster did not become ok");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
  }

  redis_server& node(std::size_t i) { return *nodes_.at(i); }
  /// "redis-cluster://127.0.0.1:P" with the first node as the only seed: the rest is learnt.
  [[nodiscard]] std::string url() const { return "redis-cluster://127.0.0.1:" + std::to_string(nodes_[0]->port()); }
  /// The node's cluster id.
  std::string id(std::size_t i) { return node(i).call({"CLUSTER", "MYID"}).str; }
  /// Which node owns `slot`, as node 0 sees it.
  std::size_t owner(std::uint16_t slot) {
    const auto r = node(0).call({"CLUSTER", "SLOTS"});
    for (const auto& range : r.elements)
      if (range.elements[0].integer <= slot && slot <= range.elements[1].integer)
        for (std::size_t i = 0; i < nodes_.size(); ++i)
          if (range.elements[2].elements[1].integer == nodes_[i]->port()) return i;
    throw std::runtime_error("no owner for slot " + std::to_string(slot));
  }

private:
  static std::string cli() {
    for (const char* p : {"/usr/bin/redis-cli", "/usr/local/bin/redis-cli"})
      if (::access(p, X_OK) == 0) return p;
    throw std::runtime_error("redis-cli is not installed: run scripts/install-deps (Debian's redis-tools)");
  }
  std::vector<std::unique_ptr<redis_server>> nodes_;
};

}  // namespace bb_test
