#include "cache/storability.h"

#include "cache/freshness.h"

namespace ec::cache {

const char* storeVerdictName(StoreVerdict verdict) {
  switch (verdict) {
    case StoreVerdict::kStore:
      return "store";
    case StoreVerdict::kMethodNotCacheable:
      return "method_not_cacheable";
    case StoreVerdict::kStatusNotCacheable:
      return "status_not_cacheable";
    case StoreVerdict::kNoStoreDirective:
      return "no_store";
    case StoreVerdict::kPrivate:
      return "private";
    case StoreVerdict::kAuthorization:
      return "authorization";
    case StoreVerdict::kSetCookie:
      return "set_cookie";
    case StoreVerdict::kVaryStar:
      return "vary_star";
    case StoreVerdict::kNoFreshnessInfo:
      return "no_freshness_info";
  }
  return "unknown";
}

bool isUnderstoodStatus(int status) {
  switch (status) {
    // The final statuses RFC 9110 §15 defines, whose caching rules this cache follows
    // (206 and 304 are never stored, see decideStore).
    case 200: case 201: case 202: case 203: case 204: case 205:
    case 300: case 301: case 302: case 303: case 307: case 308:
    case 400: case 401: case 402: case 403: case 404: case 405: case 406: case 407:
    case 408: case 409: case 410: case 411: case 412: case 413: case 414: case 415:
    case 416: case 417: case 421: case 422: case 426:
    case 500: case 501: case 502: case 503: case 504: case 505:
      return true;
    default:
      return false;
  }
}

StoreVerdict decideStore(const http::RequestHead& request, const http::ResponseHead& response,
                         const CacheControl& request_cc, const CacheControl& response_cc,
                         const PolicyConfig& config) {
  // A response to HEAD has no body to store: the proxy fetches a HEAD miss with GET (as
  // Varnish does) and passes that GET here.
  if (request.method != http::Method::kGet) return StoreVerdict::kMethodNotCacheable;
  const int status = response.status;
  // 206 needs range-aware storage; 304 is an answer to our validators, not a representation.
  if (status < 200 || status > 599 || status == 206 || status == 304) {
    return StoreVerdict::kStatusNotCacheable;
  }
  // must-understand (RFC 9111 §5.2.2.3): a status whose caching rules this cache implements
  // may be stored despite the response's no-store; any other status must not be stored.
  if (response_cc.must_understand) {
    if (!isUnderstoodStatus(status)) return StoreVerdict::kNoStoreDirective;
    if (request_cc.no_store) return StoreVerdict::kNoStoreDirective;
  } else if (request_cc.no_store || response_cc.no_store) {
    return StoreVerdict::kNoStoreDirective;
  }
  if (response_cc.private_) return StoreVerdict::kPrivate;
  if (request.fields.has("authorization") && !response_cc.public_ &&
      !response_cc.s_maxage.has_value() && !response_cc.must_revalidate) {
    return StoreVerdict::kAuthorization;
  }
  if (!config.cache_set_cookie && response.fields.has("set-cookie")) {
    return StoreVerdict::kSetCookie;
  }
  const http::Fields& fields = response.fields;
  bool vary_star = false;
  fields.forEachListElement("vary", [&](std::string_view name) { vary_star |= name == "*"; });
  if (vary_star) return StoreVerdict::kVaryStar;

  const bool explicit_freshness =
      response_cc.max_age || response_cc.s_maxage || fields.has("expires");
  if (!explicit_freshness && !response_cc.public_ && !isHeuristicallyCacheable(status)) {
    return StoreVerdict::kStatusNotCacheable;
  }
  const bool has_validator = fields.has("etag") || fields.has("last-modified");
  if (!explicit_freshness && !has_validator && config.default_ttl <= 0) {
    return StoreVerdict::kNoFreshnessInfo;
  }
  return StoreVerdict::kStore;
}

}  // namespace ec::cache
