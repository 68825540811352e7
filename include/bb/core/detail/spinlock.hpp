#pragma once
/// A test-and-test-and-set spinlock for critical sections of a few dozen nanoseconds.

#include <atomic>
#include <thread>

namespace bb::detail {

/// Meets Lockable. Spins on a plain load (no cache-line ping-pong while held), then yields
/// so that a holder preempted mid-section (or rebuilding its table) gets the core back.
class spinlock {
public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) relax();
        else std::this_thread::yield();
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::atomic<bool> locked_{false};
};

}  // namespace bb::detail
