#include "cache/serve_decision.h"

#include <algorithm>

#include "cache/freshness.h"

namespace ec::cache {
namespace {

ServeVerdict decide(const ObjectMeta& meta, const CacheControl& request_cc,
                    const PolicyConfig& config, int64_t age, int64_t staleness) {
  if (meta.no_cache) return ServeVerdict::kRevalidate;
  if (config.honor_request_no_cache && request_cc.no_cache) return ServeVerdict::kRevalidate;
  if (config.honor_request_max_age && request_cc.max_age &&
      (*request_cc.max_age == 0 || age > *request_cc.max_age)) {
    return ServeVerdict::kRevalidate;
  }
  const bool fresh =
      staleness < 0 && (!request_cc.min_fresh || -staleness >= *request_cc.min_fresh);
  if (fresh) return ServeVerdict::kFresh;
  if (meta.must_revalidate) return ServeVerdict::kRevalidate;
  if (staleness >= 0 &&
      (request_cc.max_stale_any || (request_cc.max_stale && staleness <= *request_cc.max_stale))) {
    return ServeVerdict::kStaleAllowed;
  }
  if (staleness >= 0 && meta.stale_while_revalidate > 0 &&
      staleness <= meta.stale_while_revalidate) {
    return ServeVerdict::kStaleWhileRevalidate;
  }
  return ServeVerdict::kRevalidate;
}

}  // namespace

const char* serveVerdictName(ServeVerdict verdict) {
  switch (verdict) {
    case ServeVerdict::kFresh:
      return "fresh";
    case ServeVerdict::kStaleAllowed:
      return "stale_allowed";
    case ServeVerdict::kStaleWhileRevalidate:
      return "stale_while_revalidate";
    case ServeVerdict::kRevalidate:
      return "revalidate";
    case ServeVerdict::kOnlyIfCachedFail:
      return "only_if_cached_fail";
  }
  return "unknown";
}

ServeDecision decideServe(const ObjectMeta& meta, const CacheControl& request_cc, WallTime now,
                          const PolicyConfig& config) {
  ServeDecision decision;
  decision.age = currentAge(meta, now);
  decision.staleness = decision.age - meta.freshness_lifetime;
  decision.verdict = decide(meta, request_cc, config, decision.age, decision.staleness);
  if (request_cc.only_if_cached && decision.verdict == ServeVerdict::kRevalidate) {
    decision.verdict = ServeVerdict::kOnlyIfCachedFail;
  }
  return decision;
}

bool mayServeStaleOnError(const ObjectMeta& meta, const CacheControl& request_cc, WallTime now,
                          const PolicyConfig& config) {
  if (meta.must_revalidate || meta.no_cache) return false;
  const int64_t staleness = currentAge(meta, now) - meta.freshness_lifetime;
  if (staleness < 0) return true;
  // An explicit stale-if-error (response or request) is the window the origin or client asked
  // for, and past it the stale object must not be served (RFC 5861 §4); the operator's grace
  // covers only objects without one.
  const int64_t explicit_window =
      std::max(meta.stale_if_error, request_cc.stale_if_error.value_or(0));
  const int64_t window = explicit_window > 0 ? explicit_window : config.grace;
  return window > 0 && staleness <= window;
}

}  // namespace ec::cache
