#pragma once
/// bb::secret: a string that is never printed, such as a password read from a flag or a file.

#include <string>
#include <string_view>
#include <utility>

namespace bb {

/// Holds text that must stay out of logs, errors and --help: it has no stream or string
/// conversion, only `reveal()` for the one place that needs the text and `masked()` for
/// every place that shows it.
class secret {
public:
  secret() = default;
  /// Holds `text`.
  explicit secret(std::string text) : text_(std::move(text)) {}

  /// The text itself: only for sending it where it belongs (AUTH), never for display.
  [[nodiscard]] const std::string& reveal() const noexcept { return text_; }
  /// "***" when set, empty when not: what a configuration dump or an error shows.
  [[nodiscard]] std::string_view masked() const noexcept { return text_.empty() ? std::string_view{} : "***"; }
  /// True when there is no text.
  [[nodiscard]] bool empty() const noexcept { return text_.empty(); }

  friend bool operator==(const secret&, const secret&) = default;

private:
  std::string text_;
};

}  // namespace bb
