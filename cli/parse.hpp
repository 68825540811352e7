#pragma once
/// bb::cli::parse: reads a command line through a flag table into a program's settings.
///
/// Accepts `--name value`, `--name=value`, `-x value` and `-xvalue`; switches take no value
/// and may share one dash (`-hx`); "--" ends the flags. A value is the next argument even
/// when it starts with '-' (`--threads -1` is refused by --threads, not taken for a flag). A
/// flag that is not repeatable may be given again: the last one counts. Values are read in
/// table order, so which error a command line gets does not depend on the order of its flags.

#include <cli/flag.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bb::cli {

/// A command line that cannot run: the one line to print (without the program's name) and
/// the exit status.
struct usage_error {
  int exit_status = 2;  ///< 2: malformed; 1: a required flag is missing (CS110L's status)
  std::string message;

  friend bool operator==(const usage_error&, const usage_error&) = default;
};

/// What a command line asks for: settings to run with, a request such as --help, or an error.
template <class Settings>
struct command_line {
  Settings settings{};               ///< every flag's value, or its default; complete only without error or request
  std::string request;               ///< the long name of the request flag given (e.g. "help"); empty when none
  std::optional<usage_error> error;  ///< why the command line cannot run; none when it can
};

/// Reads `args` (argv without the program's name) through `table`: the first problem found
/// becomes `error`, and a request flag stops the reading of values (an unknown flag or a
/// missing value is still an error).
template <class Settings>
command_line<Settings> parse(const std::vector<flag<Settings>>& table, const std::vector<std::string>& args) {
  command_line<Settings> out;
  auto fail = [&out](int status, std::string message) {
    out.error = usage_error{status, std::move(message)};
    return out;
  };
  auto row_named = [&table](auto match) -> const flag<Settings>* {
    for (const auto& f : table)
      if (match(f)) return &f;
    return nullptr;
  };

  // The texts each row was given, in the order given.
  std::vector<std::vector<std::string>> given(table.size());
  auto give = [&](const flag<Settings>* f, std::string text) {
    given[static_cast<std::size_t>(f - table.data())].push_back(std::move(text));
  };
  std::vector<std::string> strays;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      strays.insert(strays.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a.starts_with("--")) {
      const auto eq = a.find('=');
      const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const auto* f = row_named([&](const auto& r) { return r.name == name; });
      if (!f) return fail(2, "unknown flag --" + name);
      if (f->is_switch()) {
        if (eq != std::string::npos) return fail(2, "--" + name + " takes no value");
        give(f, "true");
      } else if (eq != std::string::npos) {
        give(f, a.substr(eq + 1));
      } else if (i + 1 < args.size()) {
        give(f, args[++i]);
      } else {
        return fail(2, "missing value for --" + name);
      }
    } else if (a.size() > 1 && a[0] == '-') {
      for (std::size_t k = 1; k < a.size(); ++k) {
        const auto* f = row_named([c = a[k]](const auto& r) { return r.short_name == c; });
        if (!f) return fail(2, std::string("unknown flag -") + a[k]);
        if (f->is_switch()) {
          give(f, "true");
          continue;
        }
        if (k + 1 < a.size()) give(f, a.substr(k + 1));
        else if (i + 1 < args.size()) give(f, args[++i]);
        else return fail(2, "missing value for --" + std::string(f->name));
        break;
      }
    } else {
      strays.push_back(a);
    }
  }

  for (std::size_t r = 0; r < table.size(); ++r)
    if (table[r].request && !given[r].empty()) {
      out.request = std::string(table[r].name);
      return out;
    }
  if (!strays.empty()) return fail(2, "unexpected argument '" + strays.front() + "'");
  for (std::size_t r = 0; r < table.size(); ++r) {
    const auto& f = table[r];
    auto& texts = given[r];
    if (f.request) continue;
    if (texts.empty()) {
      if (!f.if_missing.empty()) return fail(1, std::string(f.if_missing));
      if (f.default_value) texts.emplace_back(*f.default_value);
    } else if (!f.repeatable) {
      texts.erase(texts.begin(), texts.end() - 1);
    }
    for (const auto& text : texts)
      if (auto e = f.apply(text, out.settings)) return fail(2, to_string(*e));
  }
  return out;
}

}  // namespace bb::cli
