#pragma once
/// bb::cli value parsers: each reads one kind of flag value from text and says, in words,
/// which texts it accepts. They take text even where a number is meant, so that a config
/// file's loader can hand them a number it read as the same text.

#include <cli/parsed.hpp>

#include <charconv>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bb::cli {

/// Reads a `value_type` from text; `expected()` completes "expected ..." in an error, and
/// `values()` is the Markdown a flag's meaning shows for "{values}".
template <class P>
concept value_parser = requires(const P& p, std::string_view text) {
  typename P::value_type;
  { p(text) } -> std::same_as<parsed<typename P::value_type>>;
  { p.expected() } -> std::convertible_to<std::string>;
  { p.values() } -> std::convertible_to<std::string>;
};

namespace detail {
/// "a, b or c".
inline std::string join_or(const std::vector<std::string_view>& words) {
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) s += i + 1 == words.size() ? " or " : ", ";
    s += words[i];
  }
  return s;
}
}  // namespace detail

/// A whole number from `min` to `max` (both non-negative), in decimal without sign or spaces.
template <std::integral Int>
struct whole {
  using value_type = Int;
  Int min = 0;
  Int max = std::numeric_limits<Int>::max();

  [[nodiscard]] std::string expected() const { return "a whole number " + values(); }
  [[nodiscard]] std::string values() const { return std::to_string(min) + ".." + std::to_string(max); }
  parsed<Int> operator()(std::string_view text) const {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < static_cast<std::uint64_t>(min) ||
        v > static_cast<std::uint64_t>(max))
      return refusal{"expected " + expected()};
    return static_cast<Int>(v);
  }
};
static_assert(value_parser<whole<unsigned>>);

/// A duration in seconds, fractions allowed ("2", "0.5"), more than zero and at most
/// `max_seconds`.
struct seconds {
  using value_type = std::chrono::nanoseconds;
  double max_seconds = 86400;

  [[nodiscard]] std::string expected() const { return "seconds, " + values(); }
  [[nodiscard]] std::string values() const {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, max_seconds);
    return "more than 0 and at most " + std::string(buf, end);
  }
  parsed<value_type> operator()(std::string_view text) const {
    double s = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(s > 0) || s > max_seconds)
      return refusal{"expected " + expected()};
    return value_type(static_cast<std::int64_t>(s * 1e9));
  }
};
static_assert(value_parser<seconds>);

/// One word a `one_of` accepts: its text, the value it stands for, what it means (for the
/// documentation; may be empty), and whether the documentation and errors list it (an alias
/// such as "warning" for "warn" is accepted but not listed).
template <class T>
struct word {
  std::string_view text;
  T value;
  std::string_view meaning = {};
  bool listed = true;
};

/// One of a fixed set of words.
template <class T>
struct one_of {
  using value_type = T;
  std::vector<word<T>> words;

  [[nodiscard]] std::string expected() const {
    std::vector<std::string_view> listed;
    for (const auto& w : words)
      if (w.listed) listed.push_back(w.text);
    return detail::join_or(listed);
  }
  /// "`a` (what a means), `b`, ...".
  [[nodiscard]] std::string values() const {
    std::string s;
    for (const auto& w : words) {
      if (!w.listed) continue;
      if (!s.empty()) s += ", ";
      s += '`';
      s += w.text;
      s += '`';
      if (!w.meaning.empty()) s += " (" + std::string(w.meaning) + ")";
    }
    return s;
  }
  parsed<T> operator()(std::string_view text) const {
    for (const auto& w : words)
      if (w.text == text) return w.value;
    return refusal{"expected " + expected()};
  }
};
static_assert(value_parser<one_of<int>>);

/// `true` or `false`: what a switch is set to when given on the command line ("true"), or
/// what a config file may say.
struct boolean {
  using value_type = bool;

  [[nodiscard]] std::string expected() const { return "true or false"; }
  [[nodiscard]] std::string values() const { return "`true` or `false`"; }
  parsed<bool> operator()(std::string_view text) const {
    if (text == "true") return true;
    if (text == "false") return false;
    return refusal{"expected " + expected()};
  }
};
static_assert(value_parser<boolean>);

/// Any text, as given.
struct text {
  using value_type = std::string;

  [[nodiscard]] std::string expected() const { return "text"; }
  [[nodiscard]] std::string values() const { return "any text"; }
  parsed<std::string> operator()(std::string_view t) const { return std::string(t); }
};
static_assert(value_parser<text>);

/// Reads like `P`, then hands the value through `F` (`--max-body-bytes`: 0 becomes
/// "unlimited").
template <value_parser P, class F>
struct mapped {
  using value_type = std::invoke_result_t<const F&, typename P::value_type>;
  P parser;
  F map;

  [[nodiscard]] std::string expected() const { return parser.expected(); }
  [[nodiscard]] std::string values() const { return parser.values(); }
  parsed<value_type> operator()(std::string_view text) const {
    auto v = parser(text);
    if (!v) return refusal{v.why()};
    return std::invoke(map, std::move(*v));
  }
};

}  // namespace bb::cli
