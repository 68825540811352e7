#pragma once
/// bb::asio_rt::detail::owned_reactor_op: a reactor operation that one I/O object owns and
/// queues again and again (read_watch, accept_watch), instead of one Asio allocates per
/// operation; and owned_op, the unique_ptr that owns it (fast/ only).
///
/// The owner may go while the reactor holds the operation (queued, or its completion
/// pending): the owner's close aborts it, but the abort completes later, from the loop. So
/// owned_op's deleter frees an operation the reactor does not hold and orphans one it
/// does; the orphan's completion frees it (adopt_orphan).

#include <bb/asio/detail/epoll_access.hpp>

#include <asio/detail/reactor_op.hpp>

#include <coroutine>
#include <memory>
#include <system_error>

namespace bb::asio_rt::detail {

/// The common state of an owned reactor operation: who waits, and who holds it.
class owned_reactor_op : public ::asio::detail::reactor_op {
public:
  owned_reactor_op(const owned_reactor_op&) = delete;
  owned_reactor_op& operator=(const owned_reactor_op&) = delete;

protected:
  owned_reactor_op(perform_func_type on_ready, func_type on_complete) noexcept
      : reactor_op(std::error_code(), on_ready, on_complete) {}
  ~owned_reactor_op() = default;

  /// Lets its owner go: frees `op` when the reactor does not hold it, else leaves it to
  /// its completion. For owned_op's deleter.
  template <class Op>
  static void let_go(Op* op) noexcept {
    if (op->queued_) {
      op->orphaned_ = true;
      op->waiter_ = {};
    } else {
      std::default_delete<Op>{}(op);
    }
  }
  /// Called first thing by a completion: the reactor lets go of `op`. Returns `op` owned
  /// when its owner is gone (the caller lets it die), else null.
  template <class Op>
  static std::unique_ptr<Op> adopt_orphan(Op* op) noexcept {
    op->queued_ = false;
    return std::unique_ptr<Op>(op->orphaned_ ? op : nullptr);
  }

  template <class Op>
  friend struct orphaning_delete;

  std::coroutine_handle<> waiter_;
  bool queued_ = false;    // the reactor holds the operation (queued, or its completion pending)
  bool orphaned_ = false;  // the owner is gone: the completion frees the operation
};

/// owned_op's deleter: see owned_reactor_op::let_go.
template <class Op>
struct orphaning_delete {
  void operator()(Op* op) const noexcept { owned_reactor_op::let_go(op); }
};

/// Sole ownership of an owned reactor operation by its I/O object.
template <class Op>
using owned_op = std::unique_ptr<Op, orphaning_delete<Op>>;

/// A new operation for an I/O object to own.
template <class Op>
owned_op<Op> make_owned_op() {
  return owned_op<Op>(std::make_unique<Op>().release());
}

}  // namespace bb::asio_rt::detail
