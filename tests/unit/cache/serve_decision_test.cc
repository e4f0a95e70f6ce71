#include "cache/serve_decision.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace ec::cache {
namespace {

using testing::makeFields;

constexpr WallTime kStored{Seconds{1'700'000'000}};

ObjectMeta objectWithLifetime(int64_t lifetime) {
  ObjectMeta meta;
  meta.request_time = meta.response_time = kStored;
  meta.freshness_lifetime = lifetime;
  return meta;
}

ServeDecision at(const ObjectMeta& meta, int64_t seconds_after_store, const char* request_cc = "",
                 const PolicyConfig& config = {}) {
  auto fields = makeFields({{"Cache-Control", request_cc}});
  return decideServe(meta, parseCacheControl(fields), kStored + Seconds{seconds_after_store},
                     config);
}

TEST(ServeDecision, FreshUntilLifetime) {
  const ObjectMeta meta = objectWithLifetime(60);
  ServeDecision d = at(meta, 59);
  EXPECT_EQ(d.verdict, ServeVerdict::kFresh);
  EXPECT_EQ(d.age, 59);
  EXPECT_EQ(d.staleness, -1);
  d = at(meta, 60);
  EXPECT_EQ(d.verdict, ServeVerdict::kRevalidate);
  EXPECT_EQ(d.staleness, 0);
}

TEST(ServeDecision, AgeIncludesCorrectedInitialAge) {
  ObjectMeta meta = objectWithLifetime(60);
  meta.corrected_initial_age = 50;
  EXPECT_EQ(at(meta, 9).verdict, ServeVerdict::kFresh);
  EXPECT_EQ(at(meta, 10).verdict, ServeVerdict::kRevalidate);
  EXPECT_EQ(at(meta, 10).age, 60);
}

TEST(ServeDecision, ObjectNoCacheAlwaysRevalidates) {
  ObjectMeta meta = objectWithLifetime(600);
  meta.no_cache = true;
  EXPECT_EQ(at(meta, 0).verdict, ServeVerdict::kRevalidate);
}

TEST(ServeDecision, RequestNoCacheAndMaxAgeHonouredPerConfig) {
  const ObjectMeta meta = objectWithLifetime(600);
  EXPECT_EQ(at(meta, 10, "no-cache").verdict, ServeVerdict::kRevalidate);
  EXPECT_EQ(at(meta, 10, "max-age=0").verdict, ServeVerdict::kRevalidate);
  EXPECT_EQ(at(meta, 0, "max-age=0").verdict, ServeVerdict::kRevalidate);
  EXPECT_EQ(at(meta, 10, "max-age=5").verdict, ServeVerdict::kRevalidate);
  EXPECT_EQ(at(meta, 10, "max-age=20").verdict, ServeVerdict::kFresh);
  PolicyConfig ignore;
  ignore.honor_request_no_cache = false;
  ignore.honor_request_max_age = false;
  EXPECT_EQ(at(meta, 10, "no-cache", ignore).verdict, ServeVerdict::kFresh);
  EXPECT_EQ(at(meta, 10, "max-age=0", ignore).verdict, ServeVerdict::kFresh);
}

TEST(ServeDecision, MinFresh) {
  const ObjectMeta meta = objectWithLifetime(60);
  EXPECT_EQ(at(meta, 40, "min-fresh=20").verdict, ServeVerdict::kFresh);
  EXPECT_EQ(at(meta, 41, "min-fresh=20").verdict, ServeVerdict::kRevalidate);
}

TEST(ServeDecision, MaxStale) {
  ObjectMeta meta = objectWithLifetime(60);
  EXPECT_EQ(at(meta, 70, "max-stale=10").verdict, ServeVerdict::kStaleAllowed);
  EXPECT_EQ(at(meta, 71, "max-stale=10").verdict, ServeVerdict::kRevalidate);
  EXPECT_EQ(at(meta, 100000, "max-stale").verdict, ServeVerdict::kStaleAllowed);
  meta.must_revalidate = true;
  EXPECT_EQ(at(meta, 61, "max-stale").verdict, ServeVerdict::kRevalidate);
}

TEST(ServeDecision, StaleWhileRevalidateWindow) {
  ObjectMeta meta = objectWithLifetime(60);
  meta.stale_while_revalidate = 30;
  EXPECT_EQ(at(meta, 59).verdict, ServeVerdict::kFresh);
  EXPECT_EQ(at(meta, 60).verdict, ServeVerdict::kStaleWhileRevalidate);
  EXPECT_EQ(at(meta, 90).verdict, ServeVerdict::kStaleWhileRevalidate);
  EXPECT_EQ(at(meta, 91).verdict, ServeVerdict::kRevalidate);
  meta.must_revalidate = true;
  EXPECT_EQ(at(meta, 60).verdict, ServeVerdict::kRevalidate);
}

TEST(ServeDecision, OnlyIfCached) {
  const ObjectMeta meta = objectWithLifetime(60);
  EXPECT_EQ(at(meta, 10, "only-if-cached").verdict, ServeVerdict::kFresh);
  EXPECT_EQ(at(meta, 61, "only-if-cached").verdict, ServeVerdict::kOnlyIfCachedFail);
  EXPECT_EQ(at(meta, 61, "only-if-cached, max-stale").verdict, ServeVerdict::kStaleAllowed);
}

TEST(ServeDecision, StaleOnError) {
  ObjectMeta meta = objectWithLifetime(60);
  const CacheControl none;
  const PolicyConfig config;
  EXPECT_TRUE(mayServeStaleOnError(meta, none, kStored + Seconds{30}, config));
  EXPECT_FALSE(mayServeStaleOnError(meta, none, kStored + Seconds{61}, config));
  meta.stale_if_error = 100;
  EXPECT_TRUE(mayServeStaleOnError(meta, none, kStored + Seconds{160}, config));
  EXPECT_FALSE(mayServeStaleOnError(meta, none, kStored + Seconds{161}, config));
  PolicyConfig grace;
  grace.grace = 1000;
  // An explicit stale-if-error is not extended by grace (cache-tests
  // stale-if-error-cc-response-expired); grace covers objects without one.
  EXPECT_FALSE(mayServeStaleOnError(meta, none, kStored + Seconds{161}, grace));
  ObjectMeta plain = objectWithLifetime(60);
  EXPECT_TRUE(mayServeStaleOnError(plain, none, kStored + Seconds{1060}, grace));
  EXPECT_FALSE(mayServeStaleOnError(plain, none, kStored + Seconds{1061}, grace));
  CacheControl short_request;
  short_request.stale_if_error = 1;
  EXPECT_FALSE(mayServeStaleOnError(plain, short_request, kStored + Seconds{62}, grace));
  CacheControl request;
  request.stale_if_error = 5000;
  EXPECT_TRUE(mayServeStaleOnError(meta, request, kStored + Seconds{5060}, config));
  meta.must_revalidate = true;
  EXPECT_FALSE(mayServeStaleOnError(meta, none, kStored + Seconds{61}, grace));
  meta.must_revalidate = false;
  meta.no_cache = true;
  EXPECT_FALSE(mayServeStaleOnError(meta, none, kStored + Seconds{61}, grace));
}

}  // namespace
}  // namespace ec::cache
