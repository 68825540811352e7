#pragma once
/// bb::redis::reply_reader: RESP2 replies parsed from a byte stream by hiredis's reply
/// reader (redisReaderCreate / Feed / GetReply; none of hiredis's networking).
///
/// Bytes go in as they arrive, in pieces of any size; whole replies come out in order. Once
/// the bytes stop being RESP2 the reader stays failed: the connection must be dropped,
/// since nothing that follows can be framed.

#include <bb/core/result.hpp>
#include <bb/redis/error.hpp>
#include <bb/redis/reply.hpp>

#include <hiredis/hiredis.h>

#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

namespace bb::redis {

/// Frames and decodes RESP2 replies; one per connection.
class reply_reader {
public:
  /// A reader with nothing buffered; throws std::bad_alloc when hiredis cannot make one.
  reply_reader() : r_(redisReaderCreate()) {
    if (!r_) throw std::bad_alloc();
  }

  /// Adds bytes received; errc::protocol once the reader has failed.
  std::error_code feed(std::string_view bytes) {
    if (bytes.empty()) return {};
    if (redisReaderFeed(r_.get(), bytes.data(), bytes.size()) != REDIS_OK) return errc::protocol;
    return {};
  }

  /// The next whole reply; nullopt when more bytes are needed; errc::protocol when the
  /// bytes are not RESP2 (the reader stays failed).
  std::optional<result<reply>> next() {
    void* raw = nullptr;
    if (redisReaderGetReply(r_.get(), &raw) != REDIS_OK) return result<reply>(make_error_code(errc::protocol));
    if (!raw) return std::nullopt;
    const std::unique_ptr<redisReply, reply_deleter> owned(static_cast<redisReply*>(raw));
    return result<reply>(convert(*owned));
  }

  /// hiredis's words for why the reader failed; empty while it has not.
  [[nodiscard]] std::string_view error_text() const noexcept { return r_->err ? r_->errstr : ""; }

private:
  static reply convert(const redisReply& r) {
    reply out;
    switch (r.type) {
      case REDIS_REPLY_STRING: out.type = reply::kind::string; break;
      case REDIS_REPLY_STATUS: out.type = reply::kind::status; break;
      case REDIS_REPLY_ERROR: out.type = reply::kind::error; break;
      case REDIS_REPLY_INTEGER: out.type = reply::kind::integer; break;
      case REDIS_REPLY_ARRAY: out.type = reply::kind::array; break;
      default: out.type = reply::kind::nil; break;
    }
    if (r.type == REDIS_REPLY_INTEGER) out.integer = r.integer;
    if ((r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS || r.type == REDIS_REPLY_ERROR) && r.str)
      out.str.assign(r.str, r.len);
    if (r.type == REDIS_REPLY_ARRAY) {
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(convert(*r.element[i]));
    }
    return out;
  }

  struct reader_deleter {
    void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
  };
  struct reply_deleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
  };
  std::unique_ptr<redisReader, reader_deleter> r_;
};

}  // namespace bb::redis
