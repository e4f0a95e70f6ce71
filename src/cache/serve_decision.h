#pragma once
// Serving a stored object (RFC 9111 §4.2, §4.2.4, §5.2.1; RFC 5861): may this request be
// answered from it as is, while refreshing it, or only after revalidation.

#include <cstdint>

#include "base/time_source.h"
#include "cache/cache_control.h"
#include "cache/object_meta.h"
#include "cache/policy_config.h"

namespace ec::cache {

enum class ServeVerdict {
  kFresh,                 // serve it
  kStaleAllowed,          // stale, but the client accepts it (max-stale): serve it
  kStaleWhileRevalidate,  // serve it and start one background revalidation
  kRevalidate,            // ask the origin (conditionally) before answering
  kOnlyIfCachedFail,      // only-if-cached and nothing usable: answer 504, do not forward
};

const char* serveVerdictName(ServeVerdict verdict);

struct ServeDecision {
  ServeVerdict verdict = ServeVerdict::kRevalidate;
  int64_t age = 0;        // current age, seconds (the Age field to send)
  int64_t staleness = 0;  // age - freshness lifetime; negative while fresh
};

// Order of checks:
//  1. the object says no-cache -> revalidate;
//  2. request no-cache (honor_request_no_cache) -> revalidate; request max-age
//     (honor_request_max_age): max-age=0 or age > max-age -> revalidate;
//  3. fresh (age < lifetime, and lifetime - age >= min-fresh when given) -> kFresh;
//  4. stale and must-revalidate/proxy-revalidate/s-maxage -> revalidate (nothing stale may
//     be served);
//  5. request max-stale covering the staleness -> kStaleAllowed;
//  6. within stale-while-revalidate -> kStaleWhileRevalidate;
//  7. otherwise revalidate.
// With request only-if-cached, any revalidate outcome becomes kOnlyIfCachedFail.
ServeDecision decideServe(const ObjectMeta& meta, const CacheControl& request_cc, WallTime now,
                          const PolicyConfig& config);

// When the origin failed (refused, timed out, 5xx) during a revalidation: may the stale
// object be served instead of the error? Yes while fresh; when stale, within the larger of
// the response's and the request's stale-if-error, or, when neither has one, within the
// configured grace (an explicit stale-if-error is never extended by grace).
// Never for must-revalidate (incl. proxy-revalidate, s-maxage) or no-cache objects: those
// promised the origin that nothing unvalidated is served (RFC 9111 §4.2.4, RFC 5861 §4).
bool mayServeStaleOnError(const ObjectMeta& meta, const CacheControl& request_cc, WallTime now,
                          const PolicyConfig& config);

}  // namespace ec::cache
