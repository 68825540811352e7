#pragma once
/// bb::cli::flag: one row of a program's flag table. The row names the flag, documents it,
/// gives its default, and reads its value, as text, into the program's settings; the
/// command-line parser, --help and the README's table all read the same rows.

#include <cli/parsed.hpp>
#include <cli/values.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace bb::cli {

/// A refused flag value, as a value: which flag, what text, and why. A config file's loader
/// can put its file, line and column in front; only a program's main() prints and exits.
struct flag_error {
  std::string flag;   ///< the long name, without "--" (a config file's key)
  std::string value;  ///< the text as given (as the row's `shown` shows it, when it has one)
  std::string why;    ///< "expected a whole number 1..1000", or what failed ("cannot resolve: ...")

  friend bool operator==(const flag_error&, const flag_error&) = default;
};

/// "invalid value for --flag: 'value' (why)".
inline std::string to_string(const flag_error& e) {
  return "invalid value for --" + e.flag + ": '" + e.value + "' (" + e.why + ")";
}

/// How a row puts its text into the settings, and the words that document what it takes.
template <class Settings>
struct setter {
  std::string expected;  ///< what a good value looks like, as an error says it after "expected"
  std::string values;    ///< Markdown that stands for "{values}" in the row's meaning
  /// Parses `text` into the settings; the refusal's words when it does not parse.
  std::function<std::optional<std::string>(std::string_view text, Settings& into)> set;
};

/// One flag: its names, its documentation, its default, and its setter.
template <class Settings>
struct flag {
  std::string_view name{};                          ///< long name, without "--"; also a config file's key
  char short_name = 0;                              ///< the one-letter alias (`u` for -u), or 0
  std::string_view value_name{};                    ///< how --help names the value ("HOST:PORT"); empty: a switch
  std::optional<std::string_view> default_value{};  ///< read as if given when absent; none: absent sets nothing
  std::string_view default_shown{};                 ///< a default that is no text ("number of cores"); else empty
  std::string_view meaning{};                       ///< Markdown; "{values}" stands for the values it accepts
  bool repeatable = false;                          ///< every occurrence is read, in order (never comma-split)
  std::string_view if_missing{};                    ///< not empty: required, and the error (exit 1) when absent
  bool request = false;                             ///< like --help: given, nothing else is read; main answers it
  bool hidden = false;                              ///< left out of --help and the README
  /// How an error shows the text it refuses (a password in it masked); null: as given.
  std::string (*shown)(std::string_view text) = nullptr;
  setter<Settings> sets{};  ///< reads a value into the settings; empty for a request

  /// True when the flag takes no value on the command line (a switch reads "true").
  [[nodiscard]] bool is_switch() const noexcept { return value_name.empty(); }

  /// Reads `text` into `into`; nothing on success, else the refusal naming this flag.
  std::optional<flag_error> apply(std::string_view text, Settings& into) const {
    const auto as_shown = [&] { return shown ? shown(text) : std::string(text); };
    if (!sets.set) return flag_error{std::string(name), as_shown(), "not a setting"};
    if (auto why = sets.set(text, into)) return flag_error{std::string(name), as_shown(), std::move(*why)};
    return std::nullopt;
  }
};

namespace detail {
/// The field that member pointers lead to from `s`: `follow(s, &a::b, &b::c)` is `s.b.c`.
template <class S>
S& follow(S& s) {
  return s;
}
template <class S, class M, class... Ms>
auto& follow(S& s, M m, Ms... ms) {
  return follow(s.*m, ms...);
}
}  // namespace detail

/// A setter that reads with `parser` and calls `fn(settings, value)`.
template <class Settings, value_parser P, class F>
setter<Settings> handle(P parser, F fn) {
  return {parser.expected(), parser.values(),
          [parser, fn](std::string_view text, Settings& into) -> std::optional<std::string> {
            auto v = parser(text);
            if (!v) return v.why();
            fn(into, std::move(*v));
            return std::nullopt;
          }};
}

/// A setter that reads with `parser` and assigns the field that the member pointers lead
/// to from Settings: `store(seconds{}, &settings::proxy, &bb::proxy_config::client_idle_timeout)`.
template <value_parser P, class Settings, class M, class... Path>
setter<Settings> store(P parser, M Settings::*first, Path... rest) {
  return handle<Settings>(std::move(parser),
                          [first, rest...](Settings& s, auto v) { detail::follow(s, first, rest...) = std::move(v); });
}

/// A setter that reads with `parser` and appends to the container field the member
/// pointers lead to: one element per occurrence of a repeatable flag.
template <value_parser P, class Settings, class M, class... Path>
setter<Settings> append(P parser, M Settings::*first, Path... rest) {
  return handle<Settings>(std::move(parser), [first, rest...](Settings& s, auto v) {
    detail::follow(s, first, rest...).push_back(std::move(v));
  });
}

}  // namespace bb::cli
