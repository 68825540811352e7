#pragma once
/// The error codes simulated streams report: the portable std::errc codes a kernel would
/// give (connection_refused, connection_reset, ...) and bb::errc::eof at orderly close.

#include <bb/core/error.hpp>
#include <system_error>

namespace bb::sim {

/// The code a read yields, with 0 bytes, once the peer's FIN has been read past.
inline std::error_code eof() noexcept { return bb::errc::eof; }

/// Shorthand for a std::errc code.
inline std::error_code err(std::errc e) noexcept { return std::make_error_code(e); }

}  // namespace bb::sim
