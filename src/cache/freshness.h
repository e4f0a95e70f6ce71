#pragma once
// Freshness (RFC 9111 §4.2-4.3): turns an origin response into the ObjectMeta a cache stores,
// computes an object's current age, and refreshes a stored object from a 304.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "base/time_source.h"
#include "cache/cache_control.h"
#include "cache/object_meta.h"
#include "cache/policy_config.h"
#include "http/message.h"

namespace ec::cache {

// Fills every field of ObjectMeta from the response. request_time is when the request was sent
// to the origin, response_time when the response head arrived (RFC 9111 §4.2.3).
// Freshness lifetime, first that applies: s-maxage, max-age, Expires - Date (an invalid
// Expires means already expired), heuristic heuristic_fraction * (Date - Last-Modified) capped
// at heuristic_cap (only for heuristically cacheable statuses or an explicit public), then
// default_ttl; the result is capped at ttl_cap.
ObjectMeta makeObjectMeta(const http::RequestHead& request, const http::ResponseHead& response,
                          WallTime request_time, WallTime response_time,
                          const PolicyConfig& config);
// The same with the response's Cache-Control already parsed (the store decision needed it).
ObjectMeta makeObjectMeta(const http::RequestHead& request, const http::ResponseHead& response,
                          const CacheControl& response_cc, WallTime request_time,
                          WallTime response_time, const PolicyConfig& config);

// current_age per RFC 9111 §4.2.3: corrected_initial_age + resident_time. Never negative.
int64_t currentAge(const ObjectMeta& meta, WallTime now);

// Refreshes `meta` from a 304 (RFC 9111 §4.3.4, §3.2): every stored field named in the 304 is
// replaced by the 304's lines, except framing and hop-by-hop fields; Date, Age and the timing
// inputs come from the 304; freshness, validators and directives are then recomputed.
// The body length (content_length) is kept.
void updateFromNotModified(ObjectMeta& meta, const http::ResponseHead& not_modified,
                           WallTime request_time, WallTime response_time,
                           const PolicyConfig& config);

// Whether a 304 applies to this stored object (RFC 9111 §4.3.4 selection): a strong ETag in
// the 304 must equal the stored one; else a Last-Modified in the 304 must equal the stored one;
// with no validator in the 304 it applies.
bool notModifiedSelects(const ObjectMeta& meta, const http::ResponseHead& not_modified);

// Statuses a cache may give heuristic freshness to (RFC 9110 §15.1).
bool isHeuristicallyCacheable(int status);

// True for fields a proxy never stores or forwards: the standard hop-by-hop set, plus any
// field named in `connection_fields`' Connection lines.
bool isHopByHop(std::string_view name, const http::Fields& connection_fields);

// Serialises `fields` as stored ("Name: value\r\n" lines), dropping hop-by-hop fields, Age,
// Content-Length and Transfer-Encoding.
std::string serializeStoredHead(const http::Fields& fields);
// Reads a stored head back into `out` (views into `head`, which must outlive `out`).
void parseStoredHead(std::string_view head, http::Fields& out);
// Calls fn(line, name, value) for every field line of a stored head; `line` is without its
// CRLF, `value` is OWS-trimmed. Lines without a colon are skipped.
template <typename Fn>
void forEachStoredField(std::string_view head, Fn&& fn) {
  while (!head.empty()) {
    size_t end = head.find("\r\n");
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(std::min(head.size(), end + 2));
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    fn(line, line.substr(0, colon), trimOws(line.substr(colon + 1)));
  }
}

}  // namespace ec::cache
