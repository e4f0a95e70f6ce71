#include "tls/host_match.h"

#include <gtest/gtest.h>

namespace ec::tls {
namespace {

TEST(HostMatch, NormalizesCaseAndTrailingDot) {
  EXPECT_EQ(normalizeHostName("En.Wiki.Test."), "en.wiki.test");
  EXPECT_EQ(normalizeHostName(""), "");
}

TEST(HostMatch, WildcardCoversExactlyOneLeftLabel) {
  EXPECT_TRUE(certificateNameCovers("*.wiki.test", "en.wiki.test"));
  EXPECT_FALSE(certificateNameCovers("*.wiki.test", "wiki.test"));
  EXPECT_FALSE(certificateNameCovers("*.wiki.test", "a.en.wiki.test"));
  EXPECT_FALSE(certificateNameCovers("*.wiki.test", ".wiki.test"));
  EXPECT_FALSE(certificateNameCovers("*.wiki.test", "enwiki.test"));
}

TEST(HostMatch, ExactNamesCompareWhole) {
  EXPECT_TRUE(certificateNameCovers("example.test", "example.test"));
  EXPECT_FALSE(certificateNameCovers("example.test", "www.example.test"));
  EXPECT_FALSE(certificateNameCovers("example.test", ""));
  EXPECT_FALSE(certificateNameCovers("", "example.test"));
}

TEST(HostMatch, WildcardForAHost) {
  EXPECT_EQ(wildcardFor("en.wiki.test"), "*.wiki.test");
  EXPECT_EQ(wildcardFor("localhost"), "");
  EXPECT_EQ(wildcardFor("trailing."), "");
  EXPECT_EQ(wildcardFor(".lead"), "");
}

}  // namespace
}  // namespace ec::tls
