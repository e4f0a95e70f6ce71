#pragma once
// CacheControl: the Cache-Control directives of one message (RFC 9111 §5.2, RFC 5861), parsed
// once so the rest of the policy reads booleans and numbers instead of text.

#include <cstdint>
#include <optional>

#include "http/fields.h"

namespace ec::cache {

struct CacheControl {
  // delta-seconds values (RFC 9111 §1.2.2), clamped to kMaxDeltaSeconds.
  std::optional<int64_t> max_age;
  std::optional<int64_t> s_maxage;
  std::optional<int64_t> max_stale;  // request; see max_stale_any for a bare "max-stale"
  bool max_stale_any = false;
  std::optional<int64_t> min_fresh;  // request
  std::optional<int64_t> stale_while_revalidate;
  std::optional<int64_t> stale_if_error;

  bool no_store = false;
  bool no_cache = false;  // includes no-cache="field-names" (treated as unqualified)
  bool private_ = false;  // includes private="field-names" (treated as unqualified)
  bool public_ = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool only_if_cached = false;
  bool no_transform = false;
  bool immutable = false;
  bool must_understand = false;  // RFC 9111 §5.2.2.3
};

// RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31.
inline constexpr int64_t kMaxDeltaSeconds = 2147483648;

// Parses every Cache-Control line of `fields`. Never fails: unknown directives and junk are
// skipped. Names are case-insensitive; arguments may be tokens or quoted-strings. When a
// directive repeats, the first occurrence wins. An invalid max-age or s-maxage argument
// ("max-age=-1", "max-age=abc", "max-age", "max-age =60": no whitespace around '=') makes the
// response stale (value 0), as RFC 9111 §4.2.1 encourages; other invalid numeric arguments
// are ignored.
CacheControl parseCacheControl(const http::Fields& fields);

}  // namespace ec::cache
