#pragma once
// ObjectMeta: what a cached response carries besides its body. Computed once from the origin
// response by the policy (cache/freshness.h), stored by storage/, read on every hit, so every
// hit answers from precomputed numbers without re-parsing headers.

#include <cstdint>
#include <string>
#include <vector>

#include "base/time_source.h"

namespace ec::cache {

struct ObjectMeta {
  uint16_t status = 200;
  // Stored header section: "Name: value\r\n" lines, without the status line, without the
  // final empty line, with hop-by-hop fields, Age and framing fields (Content-Length,
  // Transfer-Encoding) removed: they are written per response.
  std::string head;

  // RFC 9111 §4.2.3 inputs, fixed when the response arrived (and again on a 304 update).
  WallTime request_time{};
  WallTime response_time{};
  int64_t corrected_initial_age = 0;  // seconds
  int64_t freshness_lifetime = 0;     // seconds, after the TTL cap
  bool heuristic_freshness = false;

  // Directives that change how the object may be served.
  bool no_cache = false;          // store, but revalidate before every use (§5.2.2.4)
  bool must_revalidate = false;   // must-revalidate, proxy-revalidate, or s-maxage present
  int64_t stale_while_revalidate = 0;  // seconds (RFC 5861)
  int64_t stale_if_error = 0;          // seconds (RFC 5861)

  // Validators, for revalidation and for answering client conditionals.
  std::string etag;           // as sent, including quotes and W/
  std::string last_modified;  // as sent
  WallTime last_modified_time{};  // parsed, epoch when absent

  // Vary field names, lowercased, in the order sent; {"*"} never matches.
  std::vector<std::string> vary_names;

  // Body length when known from Content-Length; -1 until the body completes otherwise.
  int64_t content_length = -1;

  // X-Cache received from upstream (innermost layers first); this node appends itself when it
  // answers. Kept out of `head` so a hit does not rewrite stored text.
  std::string upstream_x_cache;
};

}  // namespace ec::cache
