#pragma once
// A program run as a user would run it, for the loopback tests: posix_spawn with stdin
// from /dev/null and stdout and stderr captured in temporary files (files, not pipes, so
// a chatty child never blocks on a full pipe that the test is not reading).
//
// The destructor kills (SIGKILL) and reaps a child that is still running, so a failing
// test leaves no process behind.

#include "socket.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace bb_test {

/// How a child ended.
struct exit_status {
  bool exited = false;  ///< true: `code` is the exit status; false: killed by `signal`
  int code = 0;
  int signal = 0;

  friend bool operator==(const exit_status&, const exit_status&) = default;
  /// "exit 0" or "signal 9", for assertion messages.
  [[nodiscard]] std::string to_string() const {
    return exited ? "exit " + std::to_string(code) : "signal " + std::to_string(signal);
  }
};

/// The status of a child that exited with `code`.
inline exit_status exit_code(int code) noexcept { return {true, code, 0}; }

/// A temporary file, removed by the destructor.
class temp_file {
public:
  temp_file() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/bb_loopback_XXXXXX";
    fd_.reset(::mkostemp(path_.data(), O_CLOEXEC));
    if (!fd_) throw_errno("mkostemp " + path_);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() { ::unlink(path_.c_str()); }

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The whole content as written so far.
  [[nodiscard]] std::string read() const {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

private:
  std::string path_;
  unique_fd fd_;
};

class child_process {
public:
  /// Starts `path` with `args` (argv[1..]).
  child_process(const std::string& path, const std::vector<std::string>& args) {
    std::vector<std::string> argv_s{path};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_.fd(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_.fd(), 2);
    const int rc = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      errno = rc;
      throw_errno("posix_spawn " + path);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    if (status_) return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Sends `sig` unless the child has been reaped already.
  void signal(int sig) const {
    if (!status_) ::kill(pid_, sig);
  }

  /// True once the child has installed a handler for `sig` (Linux: SigCgt in
  /// /proc/<pid>/status), so that the signal no longer kills it.
  [[nodiscard]] bool catches(int sig) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("SigCgt:", 0) != 0) continue;
      const auto mask = std::stoull(line.substr(7), nullptr, 16);
      return (mask >> (sig - 1)) & 1u;
    }
    return false;
  }

  /// How the child ended, when it has; never waits.
  std::optional<exit_status> poll() {
    if (status_) return status_;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? exit_status{true, WEXITSTATUS(st), 0} : exit_status{false, 0, WTERMSIG(st)};
    }
    return status_;
  }

  /// How the child ended, waiting at most `timeout`; nullopt when it is still running.
  std::optional<exit_status> wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto s = poll()) return s;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  /// What the child wrote to stdout and stderr so far.
  [[nodiscard]] std::string out() const { return out_.read(); }
  [[nodiscard]] std::string err() const { return err_.read(); }

private:
  temp_file out_;
  temp_file err_;
  pid_t pid_ = -1;
  std::optional<exit_status> status_;
};

/// How `c` ended, waiting at most `timeout` before killing it with SIGKILL.
inline exit_status run_to_exit(child_process& c, std::chrono::milliseconds timeout = io_timeout) {
  if (auto s = c.wait_for(timeout)) return *s;
  c.signal(SIGKILL);
  return c.wait_for(timeout).value_or(exit_status{false, 0, SIGKILL});
}

}  // namespace bb_test
