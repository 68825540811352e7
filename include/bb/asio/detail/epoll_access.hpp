#pragma once
/// bb::asio_rt::detail::epoll_access: every reach of the fast path into the internals of
/// Asio 1.22.1's epoll reactor, in one place and by name (fast/ only).
///
/// Protected members are reached the way C++ allows a derived class to (socket_impl_access).
/// Private ones (the per-descriptor latch and registration, the reactor's epoll descriptor,
/// the acceptor's implementation) are reached through a member pointer that a friend
/// function hands out: the friend is defined when its class template, member_thief, is
/// instantiated with the member pointer as an argument, and naming a private member there
/// is allowed only in the template arguments of an explicit specialization (C++20
/// [temp.spec.general]/6, P0692R1). So each thief is named in an explicit specialization
/// of `instantiate`, whose argument, sizeof, makes the thief a complete type.
///
/// Every entity here has external linkage and one definition in every translation unit
/// (explicit specializations of class templates are class definitions; the friends are
/// inline), so the header can be included from any number of them. An explicit
/// instantiation, the usual form of the trick, may appear only once in a program, and
/// tags in an unnamed namespace would make every inline function that uses them differ
/// from one translation unit to the next: both are ODR violations in a header.

#include <asio/detail/config.hpp>
#include <asio/version.hpp>

#if ASIO_VERSION != 102201 || !defined(ASIO_HAS_EPOLL) || defined(ASIO_HAS_IO_URING_AS_DEFAULT) || \
    defined(ASIO_DISABLE_EPOLL)
#error "bb/asio's fast path is written against Asio 1.22.1's epoll reactor: build with BB_ASIO_FAST_PATH=0"
#endif

#include <asio/detail/reactor.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>

namespace bb::asio_rt::detail::epoll_access {

using reactor = ::asio::detail::epoll_reactor;
using descriptor_state = reactor::descriptor_state;
/// The listener type the fast path accepts on.
using listener_type = ::asio::basic_socket_acceptor<::asio::ip::tcp, ::asio::io_context::executor_type>;
/// A listener's implementation (its descriptor, state bits and reactor data).
using listener_impl = ::asio::detail::io_object_impl<::asio::detail::reactive_socket_service<::asio::ip::tcp>,
                                                     ::asio::io_context::executor_type>;

/// Defines stolen(Tag), which returns `Member`, once instantiated.
template <auto Member, class Tag>
struct member_thief {
  friend constexpr typename Tag::type stolen(Tag) noexcept { return Member; }
};
/// Instantiates a thief from the template arguments of an explicit specialization.
template <class Tag, std::size_t ThiefSize>
struct instantiate {};

/// descriptor_state::try_speculative_: set by the reactor at every dispatch of an event.
struct try_speculative_tag {
  using type = bool (descriptor_state::*)[reactor::max_ops];
  friend constexpr type stolen(try_speculative_tag) noexcept;
};
/// descriptor_state::registered_events_: the events the descriptor is registered for.
struct registered_events_tag {
  using type = std::uint32_t descriptor_state::*;
  friend constexpr type stolen(registered_events_tag) noexcept;
};
/// epoll_reactor::epoll_fd_.
struct epoll_fd_tag {
  using type = int reactor::*;
  friend constexpr type stolen(epoll_fd_tag) noexcept;
};
/// scheduler_operation::task_result_ (protected): the events last dispatched.
struct task_result_tag {
  using type = unsigned int ::asio::detail::scheduler_operation::*;
  friend constexpr type stolen(task_result_tag) noexcept;
};
/// basic_socket_acceptor::impl_.
struct listener_impl_tag {
  using type = listener_impl listener_type::*;
  friend constexpr type stolen(listener_impl_tag) noexcept;
};

template <>
struct instantiate<try_speculative_tag,
                   sizeof(member_thief<&descriptor_state::try_speculative_, try_speculative_tag>)> {};
template <>
struct instantiate<registered_events_tag,
                   sizeof(member_thief<&descriptor_state::registered_events_, registered_events_tag>)> {};
template <>
struct instantiate<epoll_fd_tag, sizeof(member_thief<&reactor::epoll_fd_, epoll_fd_tag>)> {};
template <>
struct instantiate<task_result_tag,
                   sizeof(member_thief<&::asio::detail::scheduler_operation::task_result_, task_result_tag>)> {};
template <>
struct instantiate<listener_impl_tag, sizeof(member_thief<&listener_type::impl_, listener_impl_tag>)> {};

/// The descriptor's read latch: Asio sets it on every dispatch of an event for the
/// descriptor (whether or not an operation is queued); whoever clears it learns from it
/// whether an event came since.
inline bool& read_latch(descriptor_state& d) noexcept { return (d.*stolen(try_speculative_tag{}))[reactor::read_op]; }

/// The events the descriptor is registered for; whoever changes the registration must
/// keep it in step, since Asio's own EPOLL_CTL_MOD (adding EPOLLOUT) starts from it.
inline std::uint32_t& registered_events(descriptor_state& d) noexcept { return d.*stolen(registered_events_tag{}); }

/// The events of the descriptor's last dispatch (Asio keeps them as its task result).
inline std::uint32_t last_events(const descriptor_state& d) noexcept {
  // A C-style cast may convert to a private base ([expr.cast]/4).
  const auto* op = (const ::asio::detail::scheduler_operation*)&d;
  return op->*stolen(task_result_tag{});
}

/// The reactor's epoll descriptor.
inline int epoll_fd(reactor& r) noexcept { return r.*stolen(epoll_fd_tag{}); }

/// A socket's implementation: its descriptor, state bits and reactor data. basic_socket
/// protects it, so a derived class may name it.
template <class Socket>
struct socket_impl_access : Socket {
  using Socket::impl_;
  /// The implementation of `s`.
  static auto& of(Socket& s) noexcept { return (s.*(&socket_impl_access::impl_)).get_implementation(); }
};

/// A listener's implementation: its descriptor and reactor data.
inline auto& implementation(listener_type& a) noexcept { return (a.*stolen(listener_impl_tag{})).get_implementation(); }

/// The reactor that runs `io`'s sockets.
inline reactor& reactor_of(::asio::io_context::executor_type io) {
  return ::asio::use_service<reactor>(::asio::query(io, ::asio::execution::context));
}

}  // namespace bb::asio_rt::detail::epoll_access
