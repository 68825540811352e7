#pragma once
/// bb::redis::reply: one RESP2 reply as a plain value tree.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bb::redis {

/// A RESP2 reply: a bulk or simple string, an error, an integer, nil, or an array of replies.
struct reply {
  /// The RESP2 reply types.
  enum class kind : std::uint8_t { string, status, error, integer, nil, array };

  kind type = kind::nil;
  std::int64_t integer = 0;     ///< kind::integer
  std::string str;              ///< kind::string, status and error
  std::vector<reply> elements;  ///< kind::array

  /// An error reply whose text starts with `code` ("NOSCRIPT", "WRONGPASS", "MOVED").
  [[nodiscard]] bool is_error(std::string_view code = {}) const noexcept {
    return type == kind::error && std::string_view(str).starts_with(code);
  }

  friend bool operator==(const reply&, const reply&) = default;
};

/// A string reply.
inline reply string_reply(std::string s) { return {reply::kind::string, 0, std::move(s), {}}; }
/// A status reply ("+OK").
inline reply status_reply(std::string s) { return {reply::kind::status, 0, std::move(s), {}}; }
/// An error reply ("-ERR ...").
inline reply error_reply(std::string s) { return {reply::kind::error, 0, std::move(s), {}}; }
/// An integer reply.
inline reply integer_reply(std::int64_t v) { return {reply::kind::integer, v, {}, {}}; }
/// An array reply.
inline reply array_reply(std::vector<reply> e) { return {reply::kind::array, 0, {}, std::move(e)}; }

}  // namespace bb::redis
