#pragma once
// ProxyStats: the data path's counters, plain relaxed atomics bumped on the hot path and read
// by the metrics collector at scrape time (observe/ renders them; see server/metrics_wiring).

#include <array>
#include <atomic>
#include <cstdint>

#include "h2/request_conversion.h"
#include "h2/session.h"

namespace ec::proxy {

enum class CacheResult : uint8_t { kHit, kMiss, kPass, kStale, kCoalesced, kInternal, kCount };
const char* cacheResultName(CacheResult result);

struct ProxyStats {
  std::array<std::atomic<uint64_t>, 6> requests_by_class{};  // index 1..5 = 1xx..5xx
  std::array<std::atomic<uint64_t>, static_cast<size_t>(CacheResult::kCount)> cache_results{};
  std::array<std::atomic<uint64_t>, 64> parse_errors{};  // by http::ParseErrorKind
  std::atomic<uint64_t> client_bytes_in{0};
  std::atomic<uint64_t> client_bytes_out{0};
  std::atomic<uint64_t> client_bytes_spliced{0};  // part of client_bytes_out sent by reference
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};  // over max_connections
  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> header_timeouts{0};
  std::atomic<uint64_t> send_timeouts{0};  // clients that took no bytes for limits.send_timeout
  std::atomic<uint64_t> h2_send_timeouts{0};  // the same for HTTP/2 connections
  // Clients that took bytes, but fewer than limits.min_send_rate per send_timeout: closed
  // (HTTP/1.1, HTTP/2 connections) or reset (HTTP/2 streams).
  std::atomic<uint64_t> send_too_slow{0};
  std::atomic<uint64_t> h2_send_too_slow{0};
  std::atomic<uint64_t> h2_stream_send_too_slow{0};
  // Request bodies that stopped or trickled below limits.min_body_rate for limits.body_timeout.
  std::atomic<uint64_t> body_timeouts{0};
  std::atomic<uint64_t> h2_body_timeouts{0};
  std::atomic<uint64_t> origin_unavailable{0};  // 502/504 answered
  std::atomic<uint64_t> stale_on_error{0};
  std::atomic<uint64_t> revalidations{0};
  std::atomic<uint64_t> background_refreshes{0};
  std::atomic<uint64_t> invalidations{0};
  std::atomic<uint64_t> truncated_origin_bodies{0};
  std::array<std::atomic<uint64_t>, 2> https_redirects{};  // [0] 301 (GET/HEAD), [1] 403
  std::atomic<uint64_t> purged_in_flight{0};
  // HTTP/2
  std::atomic<uint64_t> h2_connections{0};
  std::atomic<uint64_t> h2_streams{0};
  std::atomic<uint64_t> h2_misdirected{0};  // 421: host not covered by the certificate
  std::atomic<uint64_t> h2_malformed{0};    // frames or header blocks nghttp2 refused
  std::atomic<uint64_t> h2_header_lists_too_large{0};  // answered 431 on their stream
  std::atomic<uint64_t> h2_bodies_too_large{0};        // streamed past max_request_body: reset
  std::atomic<uint64_t> h2_stream_send_timeouts{0};  // streams whose window stayed shut: CANCEL
  std::atomic<uint64_t> h2_response_buffer_full{0};  // pulls held back by max_response_buffer
  std::array<std::atomic<uint64_t>, static_cast<size_t>(h2::CalmReason::kCount)> h2_calm{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(h2::DowngradeError::kCount)> h2_downgrade_errors{};  // fetched bodies not stored: purged meanwhile

  void countResult(CacheResult result) {
    cache_results[static_cast<size_t>(result)].fetch_add(1, std::memory_order_relaxed);
  }
  void countStatus(int status) {
    const int cls = status / 100;
    if (cls >= 1 && cls <= 5) requests_by_class[cls].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace ec::proxy
