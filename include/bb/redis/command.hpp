#pragma once
/// RESP2 command encoding: a command is an array of bulk strings.

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace bb::redis {

namespace detail {
inline void append_length(std::string& out, char mark, std::size_t n) {
  char buf[24];
  buf[0] = mark;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, end);
}
}  // namespace detail

/// Appends the array header of a command of `argc` arguments (its name counts as one).
inline void append_array_header(std::string& out, std::size_t argc) { detail::append_length(out, '*', argc); }

/// Appends one argument as a bulk string (binary safe: any bytes, CR and LF included).
inline void append_bulk(std::string& out, std::string_view arg) {
  detail::append_length(out, '$', arg.size());
  out.append(arg);
  out.append("\r\n");
}

/// Appends one integer argument as a bulk string of its decimal digits.
inline void append_bulk(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  append_bulk(out, std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

/// Appends a whole command: `append_command(out, {"SET", "k", "v"})`.
inline void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_array_header(out, args.size());
  for (auto a : args) append_bulk(out, a);
}

/// The command as a new string.
inline std::string command(std::initializer_list<std::string_view> args) {
  std::string out;
  append_command(out, args);
  return out;
}

}  // namespace bb::redis
