#pragma once
// Conditional requests against a cached object (RFC 9110 §13): answering a client's
// preconditions from cache, adding our validators when revalidating with the origin, and
// If-Range for range requests.

#include "cache/object_meta.h"
#include "http/message.h"

namespace ec::cache {

enum class ConditionalResult { kNone, kNotModified, kPreconditionFailed };

// Evaluates the request's preconditions in RFC 9110 §13.2.2 order against the stored object:
// If-Match (strong comparison, "*" matches), else If-Unmodified-Since; then If-None-Match
// (weak comparison, "*" matches) - a match gives 304 for GET/HEAD, 412 otherwise; else, for
// GET/HEAD only, If-Modified-Since (304 when Last-Modified <= the date; without a stored
// Last-Modified the stored Date, without that the arrival time, RFC 9111 §4.3.2).
// Preconditions apply
// only when the stored status is 2xx (RFC 9110 §13.2.1); invalid dates are ignored.
ConditionalResult evaluateConditional(const http::RequestHead& request, const ObjectMeta& meta);

// Adds If-None-Match (from the stored ETag) and If-Modified-Since (from the stored
// Last-Modified) to a revalidation request. Values are copied (addOwned).
void appendValidators(http::Fields& out_fields, const ObjectMeta& meta);

// If-Range (RFC 9110 §13.1.5): true when absent, or when it names the stored strong ETag, or
// when it is a date equal to the stored Last-Modified. A weak ETag never matches.
bool ifRangeMatches(const http::RequestHead& request, const ObjectMeta& meta);

// Entity-tag comparison (RFC 9110 §8.8.3.2). For the strong comparison malformed tags never
// match; the weak comparison (If-None-Match) also matches two malformed tags that are
// byte-for-byte equal, since the client echoes what the cache sent.
bool strongEtagMatch(std::string_view a, std::string_view b);
bool weakEtagMatch(std::string_view a, std::string_view b);

}  // namespace ec::cache
