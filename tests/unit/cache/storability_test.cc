#include "cache/storability.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace ec::cache {
namespace {

using testing::Header;
using testing::makeRequest;
using testing::makeResponse;

StoreVerdict decide(const http::RequestHead& request, const http::ResponseHead& response,
                    const PolicyConfig& config = {}) {
  return decideStore(request, response, parseCacheControl(request.fields),
                     parseCacheControl(response.fields), config);
}

StoreVerdict decideGet(int status, std::initializer_list<Header> response_headers,
                       std::initializer_list<Header> request_headers = {},
                       const PolicyConfig& config = {}) {
  return decide(makeRequest(http::Method::kGet, "/", request_headers),
                makeResponse(status, response_headers), config);
}

TEST(Storability, StoresExplicitAndHeuristic) {
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60"}}), StoreVerdict::kStore);
  EXPECT_EQ(decideGet(200, {{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}),
            StoreVerdict::kStore);
  EXPECT_EQ(decideGet(200, {{"ETag", "\"x\""}}), StoreVerdict::kStore);
  EXPECT_EQ(decideGet(404, {{"Expires", "0"}}), StoreVerdict::kStore);
}

TEST(Storability, MustUnderstandOverridesNoStoreForKnownStatuses) {
  // RFC 9111 §5.2.2.3 (cache-tests status-200-must-understand, status-599-must-understand).
  const char* cc = "max-age=3600, no-store, must-understand";
  EXPECT_EQ(decideGet(200, {{"Cache-Control", cc}}), StoreVerdict::kStore);
  EXPECT_EQ(decideGet(404, {{"Cache-Control", cc}}), StoreVerdict::kStore);
  EXPECT_EQ(decideGet(599, {{"Cache-Control", cc}}), StoreVerdict::kNoStoreDirective);
  EXPECT_EQ(decideGet(299, {{"Cache-Control", "max-age=60, must-understand"}}),
            StoreVerdict::kNoStoreDirective);
  // The request's no-store still wins, and private still applies.
  EXPECT_EQ(decideGet(200, {{"Cache-Control", cc}}, {{"Cache-Control", "no-store"}}),
            StoreVerdict::kNoStoreDirective);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "private, no-store, must-understand"}}),
            StoreVerdict::kPrivate);
  EXPECT_TRUE(isUnderstoodStatus(308));
  EXPECT_FALSE(isUnderstoodStatus(206));
  EXPECT_FALSE(isUnderstoodStatus(599));
}

TEST(Storability, Methods) {
  // HEAD responses have no body; the proxy fetches HEAD misses with GET.
  EXPECT_EQ(decide(makeRequest(http::Method::kHead, "/"),
                   makeResponse(200, {{"Cache-Control", "max-age=1"}})),
            StoreVerdict::kMethodNotCacheable);
  EXPECT_EQ(decide(makeRequest(http::Method::kPost, "/"),
                   makeResponse(200, {{"Cache-Control", "max-age=60"}})),
            StoreVerdict::kMethodNotCacheable);
}

TEST(Storability, Statuses) {
  EXPECT_EQ(decideGet(206, {{"Cache-Control", "max-age=60"}}), StoreVerdict::kStatusNotCacheable);
  EXPECT_EQ(decideGet(304, {{"Cache-Control", "max-age=60"}}), StoreVerdict::kStatusNotCacheable);
  EXPECT_EQ(decideGet(500, {{"ETag", "\"x\""}}), StoreVerdict::kStatusNotCacheable);
  EXPECT_EQ(decideGet(302, {{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}),
            StoreVerdict::kStatusNotCacheable);
  EXPECT_EQ(decideGet(302, {{"Cache-Control", "max-age=5"}}), StoreVerdict::kStore);
  EXPECT_EQ(decideGet(503, {{"Cache-Control", "public"}, {"ETag", "\"x\""}}), StoreVerdict::kStore);
}

TEST(Storability, Directives) {
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60, no-store"}}),
            StoreVerdict::kNoStoreDirective);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60"}}, {{"Cache-Control", "no-store"}}),
            StoreVerdict::kNoStoreDirective);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60, private"}}), StoreVerdict::kPrivate);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60, no-cache"}}), StoreVerdict::kStore);
}

TEST(Storability, AuthorizationNeedsExplicitSharing) {
  const std::initializer_list<Header> auth = {{"Authorization", "Bearer x"}};
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60"}}, auth), StoreVerdict::kAuthorization);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60, public"}}, auth), StoreVerdict::kStore);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "s-maxage=60"}}, auth), StoreVerdict::kStore);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60, must-revalidate"}}, auth),
            StoreVerdict::kStore);
}

TEST(Storability, SetCookieVaryStarAndNoInformation) {
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60"}, {"Set-Cookie", "a=b"}}),
            StoreVerdict::kSetCookie);
  PolicyConfig cookies;
  cookies.cache_set_cookie = true;
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60"}, {"Set-Cookie", "a=b"}}, {}, cookies),
            StoreVerdict::kStore);
  EXPECT_EQ(decideGet(200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept, *"}}),
            StoreVerdict::kVaryStar);
  EXPECT_EQ(decideGet(200, {}), StoreVerdict::kNoFreshnessInfo);
  PolicyConfig default_ttl;
  default_ttl.default_ttl = 30;
  EXPECT_EQ(decideGet(200, {}, {}, default_ttl), StoreVerdict::kStore);
}

TEST(Storability, VerdictNames) {
  EXPECT_STREQ(storeVerdictName(StoreVerdict::kStore), "store");
  EXPECT_STREQ(storeVerdictName(StoreVerdict::kSetCookie), "set_cookie");
}

}  // namespace
}  // namespace ec::cache
