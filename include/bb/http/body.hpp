#pragma once
// Finds where a message body ends in a stream of bytes. The proxy forwards body bytes
// unchanged, so the framer only watches them go by: it never copies or allocates. Asked
// to, it also names the payload bytes among them (the chunk data of a chunked body), so a
// caller can de-chunk a body for a client that cannot decode chunked (HTTP/1.0).

#include "bb/http/error.hpp"
#include "bb/http/message.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace bb::http {

/// Tracks one body's framing (none, Content-Length, chunked or until close) across reads of any size.
class body_framer {
public:
  /// How much of one consume() call's data belongs to the body, and whether the body ended.
  struct step {
    std::size_t used = 0;  ///< bytes of `data` that belong to this body; the rest starts the next message
    bool done = false;
    std::error_code ec;  ///< on error, `used` counts the bytes before the offending one
  };

  /// A body of no bytes (GET without a body, HEAD/1xx/204/304 responses).
  static body_framer none() noexcept { return body_framer{body_kind::none}; }

  /// A body of exactly `n` bytes.
  static body_framer content_length(std::uint64_t n) noexcept {
    body_framer f{body_kind::content_length};
    f.remaining_ = n;
    return f;
  }

  /// A chunked body (RFC 9112 §7.1) whose chunk sizes may add up to at most `max_body_bytes`.
  static body_framer chunked(std::uint64_t max_body_bytes = std::numeric_limits<std::uint64_t>::max()) noexcept {
    body_framer f{body_kind::chunked};
    f.max_ = max_body_bytes;
    return f;
  }

  /// A body that ends only when the sender closes the connection.
  static body_framer until_close() noexcept { return body_framer{body_kind::until_close}; }

  /// The framer a parsed head calls for.
  static body_framer for_head(body_kind kind, std::uint64_t length,
                              std::uint64_t max_body_bytes = std::numeric_limits<std::uint64_t>::max()) noexcept {
    switch (kind) {
      case body_kind::content_length: return content_length(length);
      case body_kind::chunked: return chunked(max_body_bytes);
      case body_kind::until_close: return until_close();
      case body_kind::none: break;
    }
    return none();
  }

  /// Takes the next bytes of the stream; after done or an error, takes nothing and repeats the verdict.
  step consume(std::string_view data) noexcept {
    return consume(data, [](std::string_view) noexcept {});
  }

  /// Like consume(data), and passes the payload among the bytes taken to `on_payload`, in
  /// order, as views into `data`: all of them, except for a chunked body, whose chunk
  /// sizes, extensions, CRLFs and trailers are left out. Never called with an empty view.
  template <class OnPayload>
  step consume(std::string_view data,
               OnPayload&& on_payload) noexcept(std::is_nothrow_invocable_v<OnPayload&, std::string_view>) {
    switch (kind_) {
      case body_kind::none: return {0, true, {}};
      case body_kind::content_length: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
        remaining_ -= n;
        if (n > 0) on_payload(data.substr(0, n));
        return {n, remaining_ == 0, {}};
      }
      case body_kind::until_close:
        if (!data.empty()) on_payload(data);
        return {data.size(), false, {}};
      case body_kind::chunked: break;
    }
    return consume_chunked(data, on_payload);
  }

  /// True once the whole body has gone by (never for until_close).
  bool done() const noexcept {
    switch (kind_) {
      case body_kind::none: return true;
      case body_kind::content_length: return remaining_ == 0;
      case body_kind::chunked: return phase_ == phase::done;
      case body_kind::until_close: break;
    }
    return false;
  }

  /// True when the body ends at EOF, so the connection cannot be reused afterwards.
  // Not named until_close(): a static and a non-static member cannot share a name and parameters.
  bool is_until_close() const noexcept { return kind_ == body_kind::until_close; }

private:
  // Bounds a chunk-size line (with extensions) and the trailer section, so a peer cannot
  // keep the framer busy forever without sending body bytes.
  static constexpr std::uint32_t max_size_line_bytes = 4 * 1024;
  static constexpr std::uint32_t max_trailer_bytes = 16 * 1024;
  static constexpr unsigned max_size_digits = 16;  // 16 hex digits always fit 64 bits

  enum class phase : std::uint8_t {
    size,           // chunk-size digits
    size_ws,        // BWS between chunk-size and ';'
    ext,            // chunk-ext up to CR
    size_lf,        // LF ending the chunk-size line
    data,           // chunk-data
    data_cr,        // CR after chunk-data
    data_lf,        // LF after chunk-data
    trailer_start,  // start of a trailer line, or CR of the final empty line
    trailer_name,
    trailer_value,
    trailer_lf,
    final_lf,
    done,
    failed,
  };

  explicit body_framer(body_kind kind) noexcept : kind_(kind) {}

  template <class OnPayload>
  step consume_chunked(std::string_view data,
                       OnPayload& on_payload) noexcept(std::is_nothrow_invocable_v<OnPayload&, std::string_view>) {
    if (phase_ == phase::done) return {0, true, {}};
    if (phase_ == phase::failed) return {0, false, error_};
    std::size_t i = 0;
    while (i < data.size()) {
      if (phase_ == phase::data) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - i));
        on_payload(data.substr(i, n));  // n > 0: a chunk in phase data has bytes left
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) phase_ = phase::data_cr;
        continue;
      }
      if (const error e = advance(data[i]); e != error{}) {
        phase_ = phase::failed;
        error_ = e;
        return {i, false, error_};
      }
      ++i;
      if (phase_ == phase::done) return {i, true, {}};
    }
    return {i, false, {}};
  }

  static int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // One byte outside chunk-data; returns error{} (zero) when the byte fits the grammar.
  error advance(char c) noexcept {
    const bool field_byte = !detail::is_ctl(c) || c == '\t';  // VCHAR, SP, HTAB, obs-text
    if (phase_ <= phase::ext && ++line_bytes_ > max_size_line_bytes) return error::bad_chunk;
    if (phase_ >= phase::trailer_start && ++trailer_bytes_ > max_trailer_bytes) return error::bad_chunk;
    switch (phase_) {
      case phase::size:
        if (const int v = hex_value(c); v >= 0) {
          if (++digits_ > max_size_digits) return error::bad_chunk;
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(v);
          return {};
        }
        if (digits_ == 0) return error::bad_chunk;
        if (c == '\r') return to(phase::size_lf);
        if (c == ';') return to(phase::ext);
        if (detail::is_ows(c)) return to(phase::size_ws);
        return error::bad_chunk;
      case phase::size_ws:
        if (c == ';') return to(phase::ext);
        return detail::is_ows(c) ? error{} : error::bad_chunk;
      case phase::ext:
        if (c == '\r') return to(phase::size_lf);
        return field_byte ? error{} : error::bad_chunk;
      case phase::size_lf:
        if (c != '\n') return error::bad_chunk;
        return end_size_line();
      case phase::data_cr: return c == '\r' ? to(phase::data_lf) : error::bad_chunk;
      case phase::data_lf:
        if (c != '\n') return error::bad_chunk;
        digits_ = 0;
        line_bytes_ = 0;
        return to(phase::size);
      case phase::trailer_start:
        if (c == '\r') return to(phase::final_lf);
        return detail::is_tchar(c) ? to(phase::trailer_name) : error::bad_chunk;  // SP here is obs-fold
      case phase::trailer_name:
        if (c == ':') return to(phase::trailer_value);
        return detail::is_tchar(c) ? error{} : error::bad_chunk;
      case phase::trailer_value:
        if (c == '\r') return to(phase::trailer_lf);
        return field_byte ? error{} : error::bad_chunk;
      case phase::trailer_lf: return c == '\n' ? to(phase::trailer_start) : error::bad_chunk;
      case phase::final_lf: return c == '\n' ? to(phase::done) : error::bad_chunk;
      case phase::data:
      case phase::done:
      case phase::failed: break;
    }
    return error::bad_chunk;
  }

  error end_size_line() noexcept {
    if (remaining_ == 0) return to(phase::trailer_start);  // last-chunk
    if (remaining_ > max_ - total_) return error::body_too_large;
    total_ += remaining_;
    return to(phase::data);
  }

  error to(phase p) noexcept {
    phase_ = p;
    return {};
  }

  std::uint64_t remaining_ = 0;  // content-length bytes left, or the current chunk's size / bytes left
  std::uint64_t total_ = 0;      // sum of chunk sizes so far
  std::uint64_t max_ = 0;
  std::uint32_t line_bytes_ = 0;
  std::uint32_t trailer_bytes_ = 0;
  error error_{};
  body_kind kind_;
  phase phase_ = phase::size;
  std::uint8_t digits_ = 0;
};

}  // namespace bb::http
