#pragma once
/// bb::check_result: how one active health check ended, as a value: the step that failed
/// and a std::error_code saying why (the transport's, the HTTP parser's, bb::errc's, or
/// check_errc's), so callers compare codes rather than text.

#include <bb/core/log.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace bb {

/// Failures of a health check that are neither the transport's nor the parser's.
enum class check_errc {
  bad_status = 1,  ///< the upstream answered with a status other than 200
};

namespace detail {
/// The category behind check_errc; stateless, shared by every thread.
class check_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "bb.health"; }
  std::string message(int c) const override {
    return static_cast<check_errc>(c) == check_errc::bad_status ? "status other than 200" : "unknown bb.health error";
  }
};
}  // namespace detail

/// The error category of check_errc.
inline const std::error_category& check_category() noexcept {
  static const detail::check_category_impl c;
  return c;
}
/// Wraps `e` in a std::error_code; found by ADL.
inline std::error_code make_error_code(check_errc e) noexcept { return {static_cast<int>(e), check_category()}; }

/// The step of a check that failed.
enum class check_step : std::uint8_t { none, connect, send, receive, response };

/// The name of `s` as log lines print it.
constexpr std::string_view to_string(check_step s) noexcept {
  constexpr std::string_view names[] = {"", "connect", "send", "receive", "response"};
  return names[static_cast<int>(s)];
}

/// One check's outcome: passed when `ec` is empty.
struct check_result {
  check_step step = check_step::none;
  std::error_code ec;
  int status = 0;  ///< the response's status, when one was parsed

  [[nodiscard]] bool passed() const noexcept { return !ec; }
  /// "connect: Connection refused", "response: status 503", "timed out": for the log.
  [[nodiscard]] std::string describe() const {
    if (passed()) return "passed";
    line l;
    if (step != check_step::none) l << to_string(step) << ": ";
    if (ec == make_error_code(check_errc::bad_status)) l << "status " << status;
    else l << ec.message();
    return l.s;
  }
};

}  // namespace bb

namespace std {
/// Lets check_errc convert to std::error_code.
template <>
struct is_error_code_enum<bb::check_errc> : true_type {};
}  // namespace std
