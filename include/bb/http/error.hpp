#pragma once
// Why bb/http rejects a message, as std::error_code values, and the HTTP status the proxy
// answers a client with for each request-side rejection.

#include <string>
#include <string_view>
#include <system_error>

namespace bb::http {

/// Why a message head or body was rejected; zero is never used, so an empty error_code means success.
enum class error {
  bad_request_line = 1,                  ///< not `method SP target SP version CRLF`, or a bare CR/LF/CTL in it
  bad_version,                           ///< the version is not of the form `HTTP/d.d`
  unsupported_version,                   ///< a well-formed version other than HTTP/1.0 or HTTP/1.1
  bad_header,                            ///< a malformed field line, obs-fold, bare CR/LF, or a missing/duplicated Host
  header_too_large,                      ///< the head outgrew limits::max_head_bytes after its first line
  uri_too_long,                          ///< the head outgrew limits::max_head_bytes inside the request line
  bad_content_length,                    ///< Content-Length is not 1*DIGIT (at most 19 digits)
  conflicting_content_length,            ///< Content-Length values disagree
  content_length_and_transfer_encoding,  ///< a request carries both framing fields (a smuggling vector)
  bad_transfer_encoding,                 ///< chunked is missing, repeated or not final, or TE in HTTP/1.0
  unsupported_transfer_encoding,         ///< a request applies a transfer coding the proxy does not know
  body_too_large,                        ///< the body exceeds limits::max_body_bytes
  bad_chunk,                             ///< chunked framing (size line, CRLF, extension or trailer) is malformed
  too_many_headers,                      ///< more than limits::max_headers field lines
  bad_status_line,                       ///< a response's status line is malformed or its status is outside 100–599
  bad_target,                            ///< the request target is none of the forms its method allows (RFC 9112 §3.2)
  bad_host,                              ///< Host is not `host [ ":" port ]` as RFC 3986 defines them
  unsupported_method,                    ///< CONNECT: a reverse proxy opens no tunnels to arbitrary authorities
};

namespace detail {

/// The category behind bb::http::error; stateless, so one immutable instance serves every thread.
class error_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "bb.http"; }

  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::bad_request_line: return "malformed request line";
      case error::bad_version: return "malformed HTTP version";
      case error::unsupported_version: return "HTTP version not supported";
      case error::bad_header: return "malformed header field";
      case error::header_too_large: return "header section too large";
      case error::uri_too_long: return "request line too long";
      case error::bad_content_length: return "malformed Content-Length";
      case error::conflicting_content_length: return "conflicting Content-Length values";
      case error::content_length_and_transfer_encoding: return "both Content-Length and Transfer-Encoding";
      case error::bad_transfer_encoding: return "malformed or misplaced Transfer-Encoding";
      case error::unsupported_transfer_encoding: return "unsupported transfer coding";
      case error::body_too_large: return "body too large";
      case error::bad_chunk: return "malformed chunked body";
      case error::too_many_headers: return "too many header fields";
      case error::bad_status_line: return "malformed status line";
      case error::bad_target: return "malformed request target";
      case error::bad_host: return "malformed Host";
      case error::unsupported_method: return "method not supported";
    }
    return "unknown bb.http error";
  }
};

}  // namespace detail

/// The error category of bb::http::error.
inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl category;
  return category;
}

/// Wraps `e` in a std::error_code of error_category(); found by ADL, so `ec = error::bad_chunk` works.
inline std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), error_category()}; }

/// The HTTP status the proxy answers a client with when its request failed with `ec`.
// Response-side failures are the upstream's fault, hence 502; codes from other categories
// (I/O, timeouts) are the caller's to map, and 500 marks that it forgot to.
inline int status_for(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return 500;
  switch (static_cast<error>(ec.value())) {
    case error::bad_request_line:
    case error::bad_version:
    case error::bad_header:
    case error::bad_content_length:
    case error::conflicting_content_length:
    case error::content_length_and_transfer_encoding:
    case error::bad_transfer_encoding:
    case error::bad_chunk:
    case error::bad_target:
    case error::bad_host: return 400;
    case error::unsupported_method: return 501;
    case error::unsupported_version: return 505;
    case error::header_too_large: return 431;
    case error::too_many_headers: return 431;
    case error::uri_too_long: return 414;
    case error::unsupported_transfer_encoding: return 501;
    case error::body_too_large: return 413;
    case error::bad_status_line: return 502;
  }
  return 500;
}

/// The standard reason phrase for `status` (RFC 9110 §15), or "Unknown".
inline std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
  }
}

}  // namespace bb::http

namespace std {
/// Lets bb::http::error convert implicitly to std::error_code and compare with one.
template <>
struct is_error_code_enum<bb::http::error> : true_type {};
}  // namespace std
