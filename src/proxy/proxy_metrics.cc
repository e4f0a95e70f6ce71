#include "proxy/proxy_metrics.h"

#include <memory>
#include <set>
#include <string>

#include "http/parse_error.h"
#include "proxy/service_metrics.h"
#include "proxy/worker_context.h"

namespace ec::proxy {
namespace {
using observe::MetricDecl;
using Type = observe::MetricDecl::Type;

const MetricDecl kRequests{"edgecache_requests_total", "Client requests answered, by status class.",
                           Type::kCounter, {"status_class"}, {}, ""};
const MetricDecl kCacheLookups{
    "edgecache_cache_lookups_total",
    "How requests were answered: hit, miss, pass, stale (served stale), coalesced (waited for "
    "another request's fetch), int (answered by edgecache itself).",
    Type::kCounter, {"result"}, {}, ""};
const MetricDecl kParseErrors{"edgecache_parse_errors_total",
                              "Client requests refused by the HTTP/1.1 parser (over HTTP/2: by the same "
                              "checks on the converted request), by reason.",
                              Type::kCounter, {"kind"}, {}, ""};
const MetricDecl kClientBytes{"edgecache_client_bytes_total",
                              "Bytes received from and sent to clients.", Type::kCounter,
                              {"direction"}, {}, "bytes"};
const MetricDecl kClientBytesSpliced{
    "edgecache_client_bytes_spliced_total",
    "Cached body bytes sent to clients by reference (vmsplice + splice from page-mapped chunks, "
    "no copy); part of edgecache_client_bytes_total{direction=\"out\"}.",
    Type::kCounter, {}, {}, "bytes"};
const MetricDecl kConnections{"edgecache_client_connections_total",
                              "Client connections accepted, and rejected at limits.max_connections.",
                              Type::kCounter, {"outcome"}, {}, ""};
const MetricDecl kConnectionsOpen{"edgecache_client_connections_open",
                                  "Client connections open now.", Type::kGauge, {}, {}, ""};
const MetricDecl kConnectionsMax{"edgecache_client_connections_max",
                                 "Client connections allowed at once (limits.max_connections); "
                                 "more are rejected.",
                                 Type::kGauge, {}, {}, ""};
const MetricDecl kHeaderTimeouts{"edgecache_header_timeouts_total",
                                 "Requests answered 408 because the header section took longer "
                                 "than limits.header_timeout.",
                                 Type::kCounter, {}, {}, ""};
const MetricDecl kSendTimeouts{"edgecache_client_send_timeouts_total",
                               "Client connections closed because they took no bytes of a pending "
                               "answer for limits.send_timeout, by protocol (http1; http2: no "
                               "response byte moved, socket full or windows shut).",
                               Type::kCounter, {"protocol"}, {}, ""};
const MetricDecl kSendTooSlow{
    "edgecache_client_send_too_slow_total",
    "Clients that took bytes of a pending answer, but fewer than limits.min_send_rate per "
    "limits.send_timeout (slow read, HTTP/2 \"data dribble\"), by protocol: http1 and http2 "
    "connections closed, http2_stream streams reset (RST_STREAM CANCEL).",
    Type::kCounter, {"protocol"}, {}, ""};
const MetricDecl kBodyTimeouts{
    "edgecache_client_body_timeouts_total",
    "Requests whose body stopped, or trickled below limits.min_body_rate, for "
    "limits.body_timeout while the proxy waited for it (slow POST), by protocol; answered 408 "
    "when no answer had started, else the connection (http1) or stream (http2) ended.",
    Type::kCounter, {"protocol"}, {}, ""};
const MetricDecl kCacheEvents{
    "edgecache_cache_events_total",
    "Cache events: revalidations sent, background refreshes (stale-while-revalidate), stale "
    "served on origin error, invalidations by unsafe methods, truncated origin bodies dropped, "
    "fetched bodies not stored because a purge arrived while they were in flight.",
    Type::kCounter, {"event"}, {}, ""};
const MetricDecl kOriginRequests{"edgecache_origin_requests_total",
                                 "Requests sent to origins (attempts, failed ones included).", Type::kCounter,
                                 {"service", "origin"}, {}, ""};
const MetricDecl kOriginErrors{"edgecache_origin_errors_total",
                               "Origin failures by kind (refused, reset, timeout, bad_response, tls_verify, tls_handshake).",
                               Type::kCounter, {"service", "origin", "kind"}, {}, ""};
const MetricDecl kOriginConnections{"edgecache_origin_connections_total",
                                    "Origin connections opened (new), reused from the pool, and closed while idle because the origin closed them or sent unasked-for bytes (closed_idle).",
                                    Type::kCounter, {"service", "origin", "kind"}, {}, ""};
const MetricDecl kOriginTlsHandshakes{"edgecache_origin_tls_handshakes_total",
                                     "TLS handshakes with origins: full (new) or resumed.",
                                     Type::kCounter, {"service", "origin", "session"}, {}, ""};
const MetricDecl kOriginOpen{"edgecache_origin_connections_open",
                             "Origin connections open now (busy and idle).", Type::kGauge,
                             {"service", "origin"}, {}, ""};
const MetricDecl kOriginBytes{"edgecache_origin_bytes_total", "Bytes exchanged with origins.",
                              Type::kCounter, {"service", "origin", "direction"}, {}, "bytes"};
const MetricDecl kOriginUnavailable{"edgecache_origin_unavailable_total",
                                    "Client requests answered 502 or 504 because the origin failed.",
                                    Type::kCounter, {}, {}, ""};
const MetricDecl kMemoryBytes{"edgecache_memory_bytes",
                              "Bytes held by the memory tier (bodies, headers and index).",
                              Type::kGauge, {}, {}, "bytes"};
const MetricDecl kMemoryObjects{"edgecache_memory_objects", "Objects in the memory tier.",
                                Type::kGauge, {}, {}, ""};
const MetricDecl kMemoryEvictions{"edgecache_memory_evictions_total",
                                  "Objects evicted from the memory tier to make room.",
                                  Type::kCounter, {}, {}, ""};
const MetricDecl kMemoryInserts{"edgecache_memory_inserts_total",
                                "Objects inserted into the memory tier.", Type::kCounter, {}, {}, ""};

const MetricDecl kHttpsRedirects{
    "edgecache_https_redirects_total",
    "Plain-HTTP requests for a service with https_redirect: 301 to HTTPS (GET, HEAD) or 403 "
    "(other methods).",
    Type::kCounter, {"status"}, {}, ""};

const MetricDecl kH2Connections{"edgecache_http2_connections_total",
                                "Client connections that chose HTTP/2 by ALPN.", Type::kCounter,
                                {}, {}, ""};
const MetricDecl kH2Streams{"edgecache_http2_streams_total", "HTTP/2 request streams opened.",
                            Type::kCounter, {}, {}, ""};
const MetricDecl kH2Misdirected{
    "edgecache_http2_misdirected_total",
    "HTTP/2 requests answered 421 because the connection's certificate does not cover their host.",
    Type::kCounter, {}, {}, ""};
const MetricDecl kH2Calm{
    "edgecache_http2_enhance_your_calm_total",
    "HTTP/2 connections ended with GOAWAY ENHANCE_YOUR_CALM, by the budget they exceeded: "
    "rapid_reset, continuation_flood, hpack_bomb, ping_flood, settings_flood, empty_data_flood, "
    "window_update_flood.",
    Type::kCounter, {"reason"}, {}, ""};
const MetricDecl kH2StreamSendTimeouts{
    "edgecache_http2_stream_send_timeouts_total",
    "HTTP/2 streams reset (RST_STREAM CANCEL) because the client kept their window shut for "
    "limits.send_timeout while the rest of its connection went on.",
    Type::kCounter, {}, {}, ""};
const MetricDecl kH2ResponseBufferFull{
    "edgecache_http2_response_buffer_full_total",
    "Times an HTTP/2 stream took less of its response than it would have because its "
    "connection already held http2.max_response_buffer bytes for a client that reads slowly.",
    Type::kCounter, {}, {}, ""};
const MetricDecl kH2Refused{
    "edgecache_http2_refused_requests_total",
    "HTTP/2 requests reset because they cannot become a canonical HTTP/1.1 request, by reason "
    "(RFC 9113 §8.2-8.3), plus malformed frames nghttp2 refused (reason=\"frame\") and header "
    "lists over http2.max_header_list_size answered 431 (reason=\"header_list_too_large\") and "
    "streamed bodies past limits.max_request_body, reset (reason=\"body_too_large\").",
    Type::kCounter, {"reason"}, {}, ""};

double load(const std::atomic<uint64_t>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}

}  // namespace

const std::vector<const observe::MetricDecl*>& metricDecls() {
  static const std::vector<const MetricDecl*> decls = [] {
    std::vector<const MetricDecl*> list = {
        &kRequests,        &kCacheLookups,      &kParseErrors,       &kClientBytes,
        &kClientBytesSpliced,
        &kConnections,     &kConnectionsOpen,   &kConnectionsMax,    &kHeaderTimeouts,    &kSendTimeouts,
        &kSendTooSlow,     &kBodyTimeouts,
        &kCacheEvents,     &kOriginRequests,    &kOriginErrors,      &kOriginConnections,
        &kOriginTlsHandshakes, &kOriginOpen,      &kOriginBytes,       &kOriginUnavailable, &kMemoryBytes,
        &kMemoryObjects,   &kMemoryEvictions,   &kMemoryInserts,     &kHttpsRedirects,
        &kH2Connections,   &kH2Streams,         &kH2Misdirected,     &kH2Calm,
        &kH2Refused,       &kH2StreamSendTimeouts, &kH2ResponseBufferFull};
    for (const MetricDecl* decl : serviceMetricDecls()) list.push_back(decl);
    return list;
  }();
  return decls;
}

void registerMetrics(observe::Registry& registry, SharedState& shared) {
  ProxyStats& stats = shared.stats();
  static const char* const kClasses[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int cls = 1; cls <= 5; ++cls) {
    registry.callback(kRequests, {kClasses[cls]}, [&stats, cls] { return load(stats.requests_by_class[cls]); });
  }
  for (size_t i = 0; i < static_cast<size_t>(CacheResult::kCount); ++i) {
    registry.callback(kCacheLookups, {cacheResultName(static_cast<CacheResult>(i))},
                      [&stats, i] { return load(stats.cache_results[i]); });
  }
  for (size_t kind = 1; kind <= static_cast<size_t>(http::ParseErrorKind::kTruncatedBody); ++kind) {
    registry.callback(kParseErrors, {http::parseErrorName(static_cast<http::ParseErrorKind>(kind))},
                      [&stats, kind] { return load(stats.parse_errors[kind]); });
  }
  registry.callback(kClientBytes, {"in"}, [&stats] { return load(stats.client_bytes_in); });
  registry.callback(kClientBytes, {"out"}, [&stats] { return load(stats.client_bytes_out); });
  registry.callback(kClientBytesSpliced, {},
                    [&stats] { return load(stats.client_bytes_spliced); });
  registry.callback(kConnections, {"accepted"}, [&stats] { return load(stats.connections_accepted); });
  registry.callback(kConnections, {"rejected"}, [&stats] { return load(stats.connections_rejected); });
  registry.callback(kConnectionsOpen, {}, [&stats] {
    return static_cast<double>(stats.connections_open.load(std::memory_order_relaxed));
  });
  registry.callback(kConnectionsMax, {}, [&shared] {
    return static_cast<double>(shared.config()->max_connections);
  });
  registry.callback(kHeaderTimeouts, {}, [&stats] { return load(stats.header_timeouts); });
  registry.callback(kSendTimeouts, {"http1"}, [&stats] { return load(stats.send_timeouts); });
  registry.callback(kSendTimeouts, {"http2"}, [&stats] { return load(stats.h2_send_timeouts); });
  registry.callback(kH2StreamSendTimeouts, {}, [&stats] { return load(stats.h2_stream_send_timeouts); });
  registry.callback(kSendTooSlow, {"http1"}, [&stats] { return load(stats.send_too_slow); });
  registry.callback(kSendTooSlow, {"http2"}, [&stats] { return load(stats.h2_send_too_slow); });
  registry.callback(kSendTooSlow, {"http2_stream"},
                    [&stats] { return load(stats.h2_stream_send_too_slow); });
  registry.callback(kBodyTimeouts, {"http1"}, [&stats] { return load(stats.body_timeouts); });
  registry.callback(kBodyTimeouts, {"http2"}, [&stats] { return load(stats.h2_body_timeouts); });
  registry.callback(kH2ResponseBufferFull, {}, [&stats] { return load(stats.h2_response_buffer_full); });
  registry.callback(kCacheEvents, {"revalidation"}, [&stats] { return load(stats.revalidations); });
  registry.callback(kCacheEvents, {"background_refresh"}, [&stats] { return load(stats.background_refreshes); });
  registry.callback(kCacheEvents, {"stale_on_error"}, [&stats] { return load(stats.stale_on_error); });
  registry.callback(kCacheEvents, {"invalidation"}, [&stats] { return load(stats.invalidations); });
  registry.callback(kCacheEvents, {"truncated_origin_body"}, [&stats] { return load(stats.truncated_origin_bodies); });
  registry.callback(kCacheEvents, {"purged_in_flight"}, [&stats] { return load(stats.purged_in_flight); });
  registry.callback(kOriginUnavailable, {}, [&stats] { return load(stats.origin_unavailable); });
  registry.callback(kHttpsRedirects, {"301"}, [&stats] { return load(stats.https_redirects[0]); });
  registry.callback(kHttpsRedirects, {"403"}, [&stats] { return load(stats.https_redirects[1]); });
  registry.callback(kH2Connections, {}, [&stats] { return load(stats.h2_connections); });
  registry.callback(kH2Streams, {}, [&stats] { return load(stats.h2_streams); });
  registry.callback(kH2Misdirected, {}, [&stats] { return load(stats.h2_misdirected); });
  for (size_t r = 0; r < static_cast<size_t>(h2::CalmReason::kCount); ++r) {
    registry.callback(kH2Calm, {h2::calmReasonName(static_cast<h2::CalmReason>(r))},
                      [&stats, r] { return load(stats.h2_calm[r]); });
  }
  for (size_t e = 1; e < static_cast<size_t>(h2::DowngradeError::kCount); ++e) {
    registry.callback(kH2Refused, {h2::downgradeErrorName(static_cast<h2::DowngradeError>(e))},
                      [&stats, e] { return load(stats.h2_downgrade_errors[e]); });
  }
  registry.callback(kH2Refused, {"frame"}, [&stats] { return load(stats.h2_malformed); });
  registry.callback(kH2Refused, {"header_list_too_large"},
                    [&stats] { return load(stats.h2_header_lists_too_large); });
  registry.callback(kH2Refused, {"body_too_large"},
                    [&stats] { return load(stats.h2_bodies_too_large); });

  storage::Store& store = shared.memoryTier();
  registry.callback(kMemoryBytes, {}, [&store] { return static_cast<double>(store.stats().bytes); });
  registry.callback(kMemoryObjects, {}, [&store] { return static_cast<double>(store.stats().objects); });
  registry.callback(kMemoryEvictions, {}, [&store] { return static_cast<double>(store.stats().evictions); });
  registry.callback(kMemoryInserts, {}, [&store] { return static_cast<double>(store.stats().inserts); });

  // Origins appear as they are first used; a collector registers their series at scrape time.
  auto registered = std::make_shared<std::set<std::string>>();
  registry.addCollector([&shared, registered](observe::Registry& r) {
    shared.forEachOrigin([&r, &registered](const std::string& label, upstream::OriginStats& origin) {
      if (!registered->insert(label).second) return;
      // The label is "service/address"; the service is also a label of its own.
      const std::string_view o = label;
      const std::string_view s = o.substr(0, o.find('/'));
      r.callback(kOriginRequests, {s, o}, [&origin] { return load(origin.requests); });
      r.callback(kOriginErrors, {s, o, "refused"}, [&origin] { return load(origin.refused); });
      r.callback(kOriginErrors, {s, o, "reset"}, [&origin] { return load(origin.resets); });
      r.callback(kOriginErrors, {s, o, "timeout"}, [&origin] { return load(origin.timeouts); });
      r.callback(kOriginErrors, {s, o, "bad_response"}, [&origin] { return load(origin.bad_responses); });
      r.callback(kOriginErrors, {s, o, "tls_verify"}, [&origin] { return load(origin.tls_verify_failures); });
      r.callback(kOriginErrors, {s, o, "tls_handshake"}, [&origin] { return load(origin.tls_handshake_failures); });
      r.callback(kOriginTlsHandshakes, {s, o, "new"}, [&origin] { return load(origin.tls_handshakes_new); });
      r.callback(kOriginTlsHandshakes, {s, o, "resumed"}, [&origin] { return load(origin.tls_handshakes_resumed); });
      r.callback(kOriginConnections, {s, o, "new"}, [&origin] { return load(origin.connects); });
      r.callback(kOriginConnections, {s, o, "reused"}, [&origin] { return load(origin.reused); });
      r.callback(kOriginConnections, {s, o, "closed_idle"}, [&origin] { return load(origin.closed_idle); });
      r.callback(kOriginOpen, {s, o}, [&origin] {
        return static_cast<double>(origin.open_connections.load(std::memory_order_relaxed));
      });
      r.callback(kOriginBytes, {s, o, "in"}, [&origin] { return load(origin.bytes_in); });
      r.callback(kOriginBytes, {s, o, "out"}, [&origin] { return load(origin.bytes_out); });
    });
  });
}

const char* cacheResultName(CacheResult result) {
  switch (result) {
    case CacheResult::kHit: return "hit";
    case CacheResult::kMiss: return "miss";
    case CacheResult::kPass: return "pass";
    case CacheResult::kStale: return "stale";
    case CacheResult::kCoalesced: return "coalesced";
    case CacheResult::kInternal: return "int";
    case CacheResult::kCount: break;
  }
  return "unknown";
}

}  // namespace ec::proxy
