#pragma once
/// bb::cli::parsed<T>: a value read from a flag's text, or the words that say why the text
/// is not one.

#include <optional>
#include <string>
#include <utility>

namespace bb::cli {

/// Why a text is not a value: the words that complete "invalid value for --flag: 'text'
/// (...)", such as "expected a whole number 1..1000" or "cannot resolve: ...".
struct refusal {
  std::string why;
};

/// A T read from text, or the refusal that explains why there is none.
template <class T>
class parsed {
public:
  parsed(T v) : value_(std::move(v)) {}
  parsed(refusal r) : why_(std::move(r.why)) {}

  /// True when a value was read.
  explicit operator bool() const noexcept { return value_.has_value(); }
  /// The value; only when there is one.
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  /// Why there is no value; empty when there is one.
  [[nodiscard]] const std::string& why() const noexcept { return why_; }

private:
  std::optional<T> value_;
  std::string why_;
};

}  // namespace bb::cli
