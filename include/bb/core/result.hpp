#pragma once
/// bb::result<T>: a value or the std::error_code that explains why there is none.
///
/// The I/O boundary reports failures as values; this is the small expected-like type they
/// travel in (std::expected is C++23).

#include <cassert>
#include <optional>
#include <system_error>
#include <utility>

namespace bb {

/// Holds a T, or an error_code when the operation failed.
template <class T>
class result {
public:
  result(T v) : value_(std::move(v)) {}
  result(std::error_code ec) : ec_(ec) { assert(ec); }

  [[nodiscard]] bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// Why there is no value (empty when there is one).
  [[nodiscard]] std::error_code error() const noexcept { return ec_; }
  /// The value; checked: throws std::system_error carrying error() when there is none (a
  /// programming error: the caller should have tested first).
  T& value() & { return checked(), *value_; }
  const T& value() const& { return checked(), *value_; }
  T&& value() && { return checked(), std::move(*value_); }
  /// The value, unchecked: only after testing has_value() (asserted in debug builds).
  T& operator*() & noexcept { return assert(value_), *value_; }
  const T& operator*() const& noexcept { return assert(value_), *value_; }
  T* operator->() noexcept { return assert(value_), &*value_; }
  const T* operator->() const noexcept { return assert(value_), &*value_; }

private:
  void checked() const {
    if (!value_) throw std::system_error(ec_, "bb::result::value() without a value");
  }

  std::optional<T> value_;
  std::error_code ec_;
};

/// What a read or write finished with: an error (empty on success) and the bytes moved.
struct io_result {
  std::error_code ec;
  std::size_t bytes = 0;
};

}  // namespace bb
