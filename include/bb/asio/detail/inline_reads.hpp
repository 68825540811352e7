#pragma once
/// bb::asio_rt::detail::inline_reads: how many reads in a row may complete without the
/// event loop before the next one is deferred through it.
///
/// Reads that find bytes complete inline. A connection that always has bytes (a fast
/// upload) would otherwise keep its worker from the event loop, starving every other
/// connection and its own other half (an upload's response is heard by the loop).

namespace bb::asio_rt::detail {

/// Reads that completed on this thread without a trip through the event loop, in a row.
inline thread_local unsigned inline_reads = 0;
/// How many such reads may run before the next one yields to the loop (64 full reads of a
/// proxy buffer move about 1 MiB).
inline constexpr unsigned inline_read_budget = 64;

/// Counts one more read; true when it must go through the event loop instead of inline.
inline bool inline_budget_spent() noexcept { return ++inline_reads > inline_read_budget; }
/// The event loop runs before the reader resumes: the count starts again.
inline void inline_budget_reset() noexcept { inline_reads = 0; }

}  // namespace bb::asio_rt::detail
