#pragma once
// PurgeTarget: the URL a purge names, split the way the request phase sees a client request
// (scheme, authority, path-and-query), so that cache::primaryKey builds the same key for both.
// parsePurgeUrl reads the absolute URLs HTCP CLR packets and Kafka resource_change events carry.

#include <string_view>

#include "base/result.h"

namespace ec::purge {

struct PurgeTarget {
  std::string_view scheme;     // "http" or "https", lowercase as written
  std::string_view authority;  // host[:port] as written
  std::string_view path;       // "/..." with the query; "/" when the URL had none
};

inline constexpr size_t kMaxPurgeUrl = 8192;

// "http://en.wiki.test/wiki/Foo?action=raw" -> {http, en.wiki.test, /wiki/Foo?action=raw}.
// Refused (kParse): schemes other than http/https (any case), no authority, userinfo, a
// fragment, bytes outside visible ASCII, longer than kMaxPurgeUrl. The views point into `url`.
Result<PurgeTarget> parsePurgeUrl(std::string_view url);

}  // namespace ec::purge
