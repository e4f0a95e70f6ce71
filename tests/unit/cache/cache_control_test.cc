#include "cache/cache_control.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace ec::cache {
namespace {

using testing::makeFields;

TEST(CacheControl, ParsesResponseDirectives) {
  auto fields = makeFields({{"Cache-Control", "public, max-age=60, s-maxage=120"},
                            {"cache-control", "Must-Revalidate, stale-while-revalidate=30"},
                            {"Cache-Control", "stale-if-error=600, immutable, no-transform"}});
  const CacheControl cc = parseCacheControl(fields);
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 120);
  EXPECT_EQ(cc.stale_while_revalidate, 30);
  EXPECT_EQ(cc.stale_if_error, 600);
  EXPECT_TRUE(cc.public_);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.immutable);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_FALSE(cc.no_store);
  EXPECT_FALSE(cc.private_);
}

TEST(CacheControl, ParsesRequestDirectives) {
  const CacheControl cc = parseCacheControl(
      makeFields({{"Cache-Control", "no-cache, max-stale, min-fresh=5, only-if-cached"}}));
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.max_stale_any);
  EXPECT_FALSE(cc.max_stale);
  EXPECT_EQ(cc.min_fresh, 5);
  EXPECT_TRUE(cc.only_if_cached);
  const CacheControl bounded = parseCacheControl(makeFields({{"Cache-Control", "max-stale=10"}}));
  EXPECT_FALSE(bounded.max_stale_any);
  EXPECT_EQ(bounded.max_stale, 10);
}

TEST(CacheControl, QuotedArgumentsAreAccepted) {
  const CacheControl cc = parseCacheControl(
      makeFields({{"Cache-Control", "max-age=\"30\", no-cache=\"Set-Cookie, X\""}}));
  EXPECT_EQ(cc.max_age, 30);
  EXPECT_TRUE(cc.no_cache);  // qualified no-cache is treated as unqualified
  const CacheControl priv = parseCacheControl(makeFields({{"Cache-Control", "private=\"a\""}}));
  EXPECT_TRUE(priv.private_);
}

TEST(CacheControl, FirstOccurrenceWins) {
  const CacheControl cc = parseCacheControl(
      makeFields({{"Cache-Control", "max-age=10"}, {"Cache-Control", "max-age=99"}}));
  EXPECT_EQ(cc.max_age, 10);
}

TEST(CacheControl, InvalidFreshnessMeansStale) {
  for (const char* value : {"max-age=-1", "max-age=abc", "max-age", "max-age=", "max-age=1.5",
                            "max-age=\"12", "max-age=1 0"}) {
    const CacheControl cc = parseCacheControl(makeFields({{"Cache-Control", value}}));
    EXPECT_EQ(cc.max_age, 0) << value;
  }
  const CacheControl s = parseCacheControl(makeFields({{"Cache-Control", "s-maxage=x"}}));
  EXPECT_EQ(s.s_maxage, 0);
}

TEST(CacheControl, WhitespaceAroundEqualsIsMalformed) {
  // cache-tests freshness-max-age-space-before-equals / -after-equals.
  for (const char* value : {"max-age =3600", "max-age= 3600", "max-age\t=3600"}) {
    const CacheControl cc = parseCacheControl(makeFields({{"Cache-Control", value}}));
    EXPECT_EQ(cc.max_age, 0) << value;
  }
  const CacheControl ok = parseCacheControl(makeFields({{"Cache-Control", " max-age=3600 "}}));
  EXPECT_EQ(ok.max_age, 3600);
}

TEST(CacheControl, MustUnderstand) {
  const CacheControl cc = parseCacheControl(
      makeFields({{"Cache-Control", "max-age=3600, no-store, Must-Understand"}}));
  EXPECT_TRUE(cc.must_understand);
  EXPECT_TRUE(cc.no_store);
  EXPECT_FALSE(parseCacheControl(makeFields({{"Cache-Control", "no-store"}})).must_understand);
}

TEST(CacheControl, InvalidOtherNumbersAreIgnored) {
  const CacheControl cc = parseCacheControl(
      makeFields({{"Cache-Control", "stale-while-revalidate=-5, min-fresh=x, stale-if-error"}}));
  EXPECT_FALSE(cc.stale_while_revalidate);
  EXPECT_FALSE(cc.min_fresh);
  EXPECT_FALSE(cc.stale_if_error);
}

TEST(CacheControl, HugeValuesClampTo2Pow31) {
  const CacheControl cc = parseCacheControl(
      makeFields({{"Cache-Control", "max-age=99999999999999999999999999, s-maxage=2147483649"}}));
  EXPECT_EQ(cc.max_age, kMaxDeltaSeconds);
  EXPECT_EQ(cc.s_maxage, kMaxDeltaSeconds);
}

TEST(CacheControl, JunkIsSkipped) {
  const CacheControl cc = parseCacheControl(makeFields(
      {{"Cache-Control", ",,, =, foo=bar, \"no-store\", no-storex, NO-STORE ,max-age=5"}}));
  EXPECT_TRUE(cc.no_store);
  EXPECT_EQ(cc.max_age, 5);
  const CacheControl none = parseCacheControl(makeFields({{"Pragma", "no-cache"}}));
  EXPECT_FALSE(none.no_cache);
}

}  // namespace
}  // namespace ec::cache
