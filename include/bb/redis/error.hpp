#pragma once
/// bb::redis::errc: why a Redis call gave no reply, in the "redis" std::error_category.

#include <string>
#include <system_error>

namespace bb::redis {

/// The Redis client's own errors; an error *reply* from the server is a reply, not one of these.
enum class errc {
  timed_out = 1,    ///< no reply before the call's deadline
  not_connected,    ///< no usable connection: connecting, backing off, or the breaker is open
  connection_lost,  ///< the connection failed with the call in flight
  protocol,         ///< the server sent bytes that are not RESP2, or a reply nobody asked for
  overloaded,       ///< too many calls in flight on the connection, or it stopped answering
};

namespace detail {
class redis_category : public std::error_category {
public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::timed_out: return "no reply within the timeout";
      case errc::not_connected: return "not connected";
      case errc::connection_lost: return "connection lost";
      case errc::protocol: return "protocol error";
      case errc::overloaded: return "too many calls in flight";
    }
    return "unknown redis error";
  }
};
}  // namespace detail

/// The category of bb::redis::errc codes.
inline const std::error_category& redis_category() noexcept {
  static const detail::redis_category c;
  return c;
}

/// Makes errc values usable as std::error_code.
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), redis_category()}; }

}  // namespace bb::redis

template <>
struct std::is_error_code_enum<bb::redis::errc> : std::true_type {};
