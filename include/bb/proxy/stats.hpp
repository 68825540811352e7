#pragma once
/// bb::proxy_stats: what one proxy worker counts, for tests, the simulator and /metrics.
///
/// One writer, the worker's own thread, and no lock: every field is a single-writer
/// metrics counter, gauge or histogram, so another thread (the admin listener's) may read
/// them at any time, and a scrape sums the workers' values (proxy/exposition.hpp).

#include <bb/metrics/counter.hpp>
#include <bb/metrics/histogram.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace bb {

/// The answers the proxy gives itself instead of an upstream's, by the status they carry
/// (`request_errors_total{reason}`); 429s are counted as rate-limit decisions instead.
enum class own_answer : std::uint8_t {
  bad_request,                 ///< 400
  request_timeout,             ///< 408
  content_too_large,           ///< 413
  uri_too_long,                ///< 414
  header_fields_too_large,     ///< 431
  not_implemented,             ///< 501
  bad_gateway,                 ///< 502
  service_unavailable,         ///< 503
  gateway_timeout,             ///< 504
  http_version_not_supported,  ///< 505
  other,                       ///< any other status the proxy answers with
  count_
};

/// The label value of `a`.
constexpr std::string_view to_string(own_answer a) noexcept {
  constexpr std::string_view names[] = {"bad_request",
                                        "request_timeout",
                                        "content_too_large",
                                        "uri_too_long",
                                        "header_fields_too_large",
                                        "not_implemented",
                                        "bad_gateway",
                                        "service_unavailable",
                                        "gateway_timeout",
                                        "http_version_not_supported",
                                        "other"};
  return names[static_cast<int>(a)];
}

/// The reason a proxy-made answer of `status` is counted under.
constexpr own_answer own_answer_for(int status) noexcept {
  switch (status) {
    case 400: return own_answer::bad_request;
    case 408: return own_answer::request_timeout;
    case 413: return own_answer::content_too_large;
    case 414: return own_answer::uri_too_long;
    case 431: return own_answer::header_fields_too_large;
    case 501: return own_answer::not_implemented;
    case 502: return own_answer::bad_gateway;
    case 503: return own_answer::service_unavailable;
    case 504: return own_answer::gateway_timeout;
    case 505: return own_answer::http_version_not_supported;
    default: return own_answer::other;
  }
}

/// What one worker counts about one upstream host.
struct upstream_stats {
  metrics::counter attempts;                  ///< attempts started on it: a connect, or a pooled connection taken
  std::array<metrics::counter, 6> responses;  ///< response heads from it by class: [1]=1xx .. [5]=5xx
  metrics::histogram response_duration;       ///< from an attempt's start (connect included) to its head
  metrics::gauge in_flight;                   ///< attempts on it now, connecting included
  metrics::counter connect_errors;            ///< connects refused, reset or timed out
  metrics::counter timeouts;                  ///< attempts it did not answer within the response timeout
  metrics::counter retries;                   ///< failed attempts on it that another attempt followed
};

/// What one proxy worker counts.
struct proxy_stats {
  /// Counters for a cluster of `upstreams` hosts.
  explicit proxy_stats(std::size_t upstreams)
      : upstream_count(upstreams), upstream(std::make_unique<upstream_stats[]>(upstreams)) {}

  metrics::counter connections;               ///< client connections accepted
  metrics::gauge open_connections;            ///< client connections being served now
  metrics::counter requests;                  ///< request heads parsed
  std::array<metrics::counter, 6> responses;  ///< responses sent to clients by class: [1]=1xx .. [5]=5xx
  metrics::histogram request_duration;        ///< from a request's head to the end of its answer
  metrics::counter bad_requests;              ///< requests refused for their framing or syntax
  std::array<metrics::counter, static_cast<std::size_t>(own_answer::count_)> own_answers;  ///< by reason
  metrics::counter upstream_errors;      ///< connects or exchanges with an upstream that failed
  metrics::counter timeouts;             ///< phase deadlines that passed (each cuts or ends its session)
  metrics::counter refused_connections;  ///< connections closed on accept: over max_connections
  metrics::counter rate_allowed;         ///< requests the rate limiter admitted
  metrics::counter rate_limited;         ///< requests the rate limiter refused (429)
  std::size_t upstream_count;
  std::unique_ptr<upstream_stats[]> upstream;  ///< one per host, in the cluster's order

  /// Counts a response the proxy made itself, with `status`.
  void own(int status) noexcept {
    if (status != 429) own_answers[static_cast<std::size_t>(own_answer_for(status))].add();
  }
};

}  // namespace bb
