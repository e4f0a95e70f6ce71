#pragma once
// Storability (RFC 9111 §3, §3.5): may a response be stored by a shared cache, and if not,
// why. The reason is kept as an enum so the proxy can count it and mark hit-for-pass.

#include "cache/cache_control.h"
#include "cache/policy_config.h"
#include "http/message.h"

namespace ec::cache {

enum class StoreVerdict {
  kStore,
  kMethodNotCacheable,  // only GET responses are stored (fetch HEAD misses with GET)
  kStatusNotCacheable,  // 1xx, 206, 304, or a status without explicit freshness that is not
                        // heuristically cacheable
  kNoStoreDirective,    // no-store in the request or the response
  kPrivate,             // response private (a shared cache must not store it)
  kAuthorization,       // request had Authorization and the response did not allow sharing
  kSetCookie,           // response sets a cookie and cache_set_cookie is off
  kVaryStar,            // Vary: * can never be matched, storing it only wastes memory
  kNoFreshnessInfo,     // nothing to be fresh for and nothing to revalidate with
};

const char* storeVerdictName(StoreVerdict verdict);

// Final statuses this cache knows the caching rules of (RFC 9110 §15), for must-understand.
bool isUnderstoodStatus(int status);

// Checks in this order: method, status, no-store (ignored for an understood status when the
// response has must-understand; an unknown status with must-understand is never stored),
// private, Authorization, Set-Cookie, Vary: *, freshness information. A response with no
// explicit freshness, no heuristic freshness and no validator would be revalidated by a full
// fetch on every use, so it is stored only when default_ttl gives it a lifetime.
StoreVerdict decideStore(const http::RequestHead& request, const http::ResponseHead& response,
                         const CacheControl& request_cc, const CacheControl& response_cc,
                         const PolicyConfig& config);

}  // namespace ec::cache
