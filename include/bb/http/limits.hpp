#pragma once
// The bounds the parsers hold a peer to.

#include <cstddef>
#include <cstdint>

namespace bb::http {

/// Bounds on what a peer may send, so that a hostile peer costs bounded memory and time.
struct limits {
  std::size_t max_head_bytes = 16 * 1024;       ///< whole head incl. skipped leading CRLFs and the final CRLFCRLF
  std::size_t max_headers = 100;                ///< field lines per head
  std::uint64_t max_body_bytes = 100ull << 20;  ///< request bodies only; response bodies are not bounded
};

}  // namespace bb::http
