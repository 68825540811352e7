#pragma once
// The built balancebeam and origin programs, started on a free loopback port and ready
// once they accept connections; stopped with SIGTERM as an operator would.

#include "child_process.hpp"
#include "socket.hpp"

#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef BB_BALANCEBEAM_PATH
#error "BB_BALANCEBEAM_PATH must name the balancebeam program (set by tests/CMakeLists.txt)"
#endif
#ifndef BB_ORIGIN_PATH
#error "BB_ORIGIN_PATH must name the origin program (set by tests/CMakeLists.txt)"
#endif

namespace bb_test {

/// How long a server may take to start accepting, or to exit after SIGTERM.
inline constexpr std::chrono::milliseconds start_timeout{5000};
inline constexpr std::chrono::milliseconds stop_timeout{5000};

/// A server program listening on 127.0.0.1:port().
class server_process {
public:
  using args_for_address = std::function<std::vector<std::string>(const std::string& address)>;

  /// Starts `path` with the arguments `args` makes for a free address, and waits until
  /// it accepts connections. Should the port be taken after all (the child exits
  /// instead), it tries again on another. Throws with the child's stderr when it fails.
  server_process(const std::string& path, const args_for_address& args) {
    for (int attempt = 0;; ++attempt) {
      port_ = std::make_unique<port_reservation>();
      child_ = std::make_unique<child_process>(path, args(port_->address()));
      if (wait_until_accepting()) return;
      if (attempt == 2 || child_->err().find("cannot listen") == std::string::npos)
        throw std::runtime_error(path + " did not start on " + port_->address() + ": " + child_->err());
    }
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_->port(); }
  [[nodiscard]] std::string address() const { return port_->address(); }
  [[nodiscard]] child_process& child() noexcept { return *child_; }

  /// Sends SIGTERM; how the program ended, or nullopt when it is still running after
  /// `timeout` (the destructor then kills it).
  std::optional<exit_status> terminate(std::chrono::milliseconds timeout = stop_timeout) {
    child_->signal(SIGTERM);
    return child_->wait_for(timeout);
  }

private:
  // Ready means accepting connections and catching SIGTERM. The second matters because
  // balancebeam listens before it installs its signal handler (a bug, reported and
  // pinned by "balancebeam exits 0 on a SIGTERM that arrives as soon as it accepts
  // connections"): without the wait, every test that stops it soon after start would be
  // flaky rather than only the one that is about this.
  bool wait_until_accepting() {
    const auto deadline = std::chrono::steady_clock::now() + start_timeout;
    bool accepting = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (child_->poll()) return false;
      // The probe connection closes without a request: the server sees a client leave.
      if (!accepting) accepting = static_cast<bool>(try_connect(port_->port(), std::chrono::milliseconds(500)));
      if (accepting && child_->catches(SIGTERM)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(accepting ? 1 : 10));
    }
    return false;
  }

  std::unique_ptr<port_reservation> port_;
  std::unique_ptr<child_process> child_;
};

/// balancebeam on a free port with these upstreams and extra flags; the other flags keep
/// the defaults a user gets.
inline server_process start_balancebeam(const std::vector<std::string>& upstreams,
                                        const std::vector<std::string>& extra = {}) {
  return server_process(BB_BALANCEBEAM_PATH, [&](const std::string& address) {
    std::vector<std::string> args{"--bind", address};
    for (const auto& u : upstreams) args.insert(args.end(), {"--upstream", u});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  });
}

/// origin on a free port with these flags.
inline server_process start_origin(const std::vector<std::string>& flags) {
  return server_process(BB_ORIGIN_PATH, [&](const std::string& address) {
    std::vector<std::string> args{"--bind", address};
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  });
}

}  // namespace bb_test
