#pragma once
/// bb::cli usage texts rendered from a flag table: --help for the terminal, and the Markdown
/// table the README shows (a test compares the two).

#include <cli/flag.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace bb::cli {

/// Markdown without its marks, for a terminal: backticks dropped, "[text](target)" as "text".
inline std::string plain(std::string_view md) {
  std::string s;
  for (std::size_t i = 0; i < md.size(); ++i) {
    if (md[i] == '`') continue;
    if (md[i] == '[') {
      const auto close = md.find("](", i);
      const auto end = close == std::string_view::npos ? close : md.find(')', close);
      if (end != std::string_view::npos) {
        s += md.substr(i + 1, close - i - 1);
        i = end;
        continue;
      }
    }
    s += md[i];
  }
  return s;
}

/// The row's meaning in Markdown, with "{values}" replaced by what its setter accepts.
template <class Settings>
std::string meaning_of(const flag<Settings>& f) {
  std::string s(f.meaning);
  constexpr std::string_view mark = "{values}";
  if (const auto at = s.find(mark); at != std::string::npos) s.replace(at, mark.size(), f.sets.values);
  return s;
}

/// "-b, --bind" or "--balance".
template <class Settings>
std::string names_of(const flag<Settings>& f) {
  std::string s;
  if (f.short_name) s = std::string{'-', f.short_name} + ", ";
  return s + "--" + std::string(f.name);
}

/// The default as documented, in Markdown: "`10`", "number of cores"; empty when none.
template <class Settings>
std::string default_of(const flag<Settings>& f) {
  if (!f.default_shown.empty()) return std::string(f.default_shown);
  return f.default_value ? "`" + std::string(*f.default_value) + "`" : "";
}

namespace detail {
/// The README's default column: the default, with "repeatable" after it (or after "none").
template <class Settings>
std::string default_cell(const flag<Settings>& f) {
  std::string s = default_of(f);
  if (f.repeatable) s = (s.empty() ? "none" : s) + ", repeatable";
  return s;
}

/// `text`'s words, each line `indent` spaces in and at most `width` columns when the words allow.
inline std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out, line(indent, ' ');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto end = std::min(text.find(' ', i), text.size());
    const auto word = text.substr(i, end - i);
    if (line.size() > indent && line.size() + 1 + word.size() > width) {
      out += line + '\n';
      line.assign(indent, ' ');
    }
    if (line.size() > indent) line += ' ';
    line += word;
    i = end + 1;
  }
  return out + line + '\n';
}

/// A table cell: a '|' would end it.
inline std::string cell(std::string_view md) {
  std::string s;
  for (char c : md) {
    if (c == '|') s += '\\';
    s += c;
  }
  return s;
}
}  // namespace detail

/// The --help text: `head` (what the program is, its usage line), then every row that is
/// not hidden: its names, value and default on one line, its meaning wrapped below.
template <class Settings>
std::string help_text(std::string_view head, const std::vector<flag<Settings>>& table) {
  std::string s(head);
  s += "\n\nflags:\n";
  for (const auto& f : table) {
    if (f.hidden) continue;
    std::string line = "  " + names_of(f);
    if (!f.is_switch()) (line += ' ') += f.value_name;
    std::string notes;
    if (const auto d = default_of(f); !d.empty()) notes = "default: " + plain(d);
    if (f.repeatable) notes += notes.empty() ? "repeatable" : "; repeatable";
    if (!notes.empty()) line += "  (" + notes + ")";
    s += line + '\n';
    s += detail::wrap(plain(meaning_of(f)), 6, 80);
  }
  return s;
}

/// The README's flag table in Markdown: a header row, then one row per flag that is not
/// hidden, with its names, its default and its meaning.
template <class Settings>
std::string markdown_table(const std::vector<flag<Settings>>& table) {
  std::string s = "| flag | default | meaning |\n|---|---|---|\n";
  for (const auto& f : table)
    if (!f.hidden)
      s += "| `" + names_of(f) + "` | " + detail::cell(detail::default_cell(f)) + " | " + detail::cell(meaning_of(f)) +
           " |\n";
  return s;
}

}  // namespace bb::cli
