#pragma once
// Cache keys. The primary key names the resource (RFC 9111 §2: target URI), normalised so that
// spellings a browser or a backend treats as the same URI share one entry (RFC 3986 §6.2.2).

#include <string>
#include <string_view>

namespace ec::cache {

// Returns "scheme://host[:port]path?query" with:
//  - scheme and host lowercased; a trailing dot on the host removed; userinfo dropped;
//  - the port removed when it is the scheme's default (80/http, 443/https) or empty, and
//    written without leading zeros otherwise;
//  - in the path: percent-escapes uppercased, escapes of unreserved characters decoded
//    (never %2F, which is not unreserved), then dot-segments removed (RFC 3986 §5.2.4);
//    an empty path becomes "/";
//  - the query kept verbatim except that escape hex digits are uppercased.
// Not done on purpose: "//" is NOT collapsed (backends may route on it), the query is not
// sorted, "+" is not touched. Fragments never reach a proxy, so none is expected here.
// A target of "*" (OPTIONS) is kept as is.
std::string primaryKey(std::string_view scheme, std::string_view authority,
                       std::string_view path_and_query);
// The same key appended to `out` (a reused buffer: no allocation once it has the capacity).
void appendPrimaryKey(std::string& out, std::string_view scheme, std::string_view authority,
                      std::string_view path_and_query);
// The same key in two parts, for a caller that keeps the first one per host:
// appendKeyOrigin writes "scheme://host[:port]", appendKeyTarget the path and query, each
// normalised as above.
void appendKeyOrigin(std::string& out, std::string_view scheme, std::string_view authority);
void appendKeyTarget(std::string& out, std::string_view path_and_query);

// Normalises an authority alone (lowercase host, no trailing dot, no default port), as used
// inside primaryKey; exposed for same-host comparisons (invalidation).
std::string normalizeAuthority(std::string_view scheme, std::string_view authority);

}  // namespace ec::cache
