#pragma once
// PolicyConfig: the operator's knobs for the RFC 9111 policy. Plain values, validated by the
// config room before they reach here. All durations are in seconds.

#include <cstddef>
#include <cstdint>
#include <string>

namespace ec::cache {

struct PolicyConfig {
  // Upper bound on any freshness lifetime, explicit or heuristic (Varnish's ttl_cap).
  // A value <= 0 disables the cap.
  int64_t ttl_cap = 86400;
  // Lifetime given to a storable response that carries no freshness information at all.
  // 0 keeps RFC behaviour: such a response is revalidated on every use.
  int64_t default_ttl = 0;
  // Heuristic freshness: this fraction of (Date - Last-Modified), at most heuristic_cap.
  double heuristic_fraction = 0.1;
  int64_t heuristic_cap = 86400;
  // Store responses that set cookies (shared caches normally must not).
  bool cache_set_cookie = false;
  // Whether request Cache-Control no-cache / max-age force revalidation. Large CDNs often turn
  // these off so a reload storm cannot bypass the cache.
  bool honor_request_no_cache = true;
  bool honor_request_max_age = true;
  // Extra staleness allowed when the origin fails (refused, timed out, 5xx), on top of
  // stale-if-error. Never applies to must-revalidate / no-cache objects.
  int64_t grace = 0;
  // How long a key that produced an uncacheable response skips request coalescing.
  int64_t hit_for_pass = 601;
  // Node name used in X-Cache.
  std::string node_name;
  // A Range header with more ranges than this is ignored (the whole object is served).
  size_t max_ranges = 64;
};

}  // namespace ec::cache
