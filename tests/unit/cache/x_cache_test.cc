#include "cache/x_cache.h"

#include <gtest/gtest.h>

namespace ec::cache {
namespace {

TEST(XCache, AppendsInnermostFirst) {
  EXPECT_EQ(appendXCache("", "cp3050", "miss"), "cp3050 miss");
  EXPECT_EQ(appendXCache("cp3050 miss", "cp3052", "hit/5"), "cp3050 miss, cp3052 hit/5");
  EXPECT_EQ(appendXCache("  ", "edge-1.local", "int"), "edge-1.local int");
}

TEST(XCache, ReferenceExamples) {
  EXPECT_EQ(xCacheStatus("cp4029 miss, cp4027 hit/5"), "hit-front");
  EXPECT_EQ(xCacheStatus("cp4029 hit, cp4027 pass"), "hit-local");
  EXPECT_EQ(xCacheStatus("cp4029 int, cp4027 miss"), "int-local");
  EXPECT_EQ(xCacheStatus("cp4029 pass, cp4027 miss"), "miss");
}

TEST(XCache, AllClasses) {
  EXPECT_EQ(xCacheStatus("a hit, b miss, c miss"), "hit-remote");
  EXPECT_EQ(xCacheStatus("a miss, b int"), "int-front");
  EXPECT_EQ(xCacheStatus("a int, b miss, c pass"), "int-remote");
  EXPECT_EQ(xCacheStatus("a miss, b pass"), "pass");
  EXPECT_EQ(xCacheStatus("node1 hit/12"), "hit-front");
  EXPECT_EQ(xCacheStatus("cp1089 hit, cp1089 hit/3"), "hit-front");
  // hit wins over int wherever they are.
  EXPECT_EQ(xCacheStatus("a hit, b miss, c int"), "hit-remote");
}

TEST(XCache, AnyTokenIsANodeName) {
  EXPECT_EQ(xCacheStatus("edge-01.eqiad hit"), "hit-front");
  EXPECT_EQ(xCacheStatus("my_node miss"), "miss");
}

TEST(XCache, UnknownShapes) {
  EXPECT_EQ(xCacheStatus(""), "unknown");
  EXPECT_EQ(xCacheStatus("hit"), "unknown");
  EXPECT_EQ(xCacheStatus("a hit/"), "unknown");
  EXPECT_EQ(xCacheStatus("a hit/x"), "unknown");
  EXPECT_EQ(xCacheStatus("a stale"), "unknown");
  EXPECT_EQ(xCacheStatus("a miss, garbage"), "unknown");
  EXPECT_EQ(xCacheStatus("a HIT"), "unknown");
  EXPECT_EQ(xCacheStatus("no(de) hit"), "unknown");
}

}  // namespace
}  // namespace ec::cache
