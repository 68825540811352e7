#pragma once
/// bb::errc: the library's own error codes, in the "bb" std::error_category.

#include <string>
#include <system_error>

namespace bb {

/// Errors that the library reports and that no standard code names well.
enum class errc {
  eof = 1,          ///< the peer closed its side of the stream in order
  timed_out,        ///< a deadline of the proxy's own passed
  no_upstream,      ///< no upstream could take the request
  upstream_closed,  ///< the upstream closed before its response was complete
};

namespace detail {
class bb_category : public std::error_category {
public:
  const char* name() const noexcept override { return "bb"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::eof: return "end of stream";
      case errc::timed_out: return "timed out";
      case errc::no_upstream: return "no upstream available";
      case errc::upstream_closed: return "upstream closed the connection early";
    }
    return "unknown bb error";
  }
};
}  // namespace detail

/// The category of bb::errc codes.
inline const std::error_category& bb_category() noexcept {
  static const detail::bb_category c;
  return c;
}

/// Makes errc values usable as std::error_code.
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), bb_category()}; }

}  // namespace bb

template <>
struct std::is_error_code_enum<bb::errc> : std::true_type {};
