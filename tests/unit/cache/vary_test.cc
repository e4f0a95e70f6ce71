#include "cache/vary.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace ec::cache {
namespace {

using testing::makeFields;

TEST(Vary, ParsesNamesLowercasedInOrderWithoutDuplicates) {
  auto response =
      makeFields({{"Vary", "Accept-Encoding, Cookie"}, {"vary", "accept-encoding,X-A"}});
  EXPECT_EQ(parseVary(response), (std::vector<std::string>{"accept-encoding", "cookie", "x-a"}));
  EXPECT_TRUE(parseVary(makeFields({})).empty());
  EXPECT_EQ(parseVary(makeFields({{"Vary", "*"}})), std::vector<std::string>{"*"});
}

TEST(Vary, StarNeverMatches) {
  EXPECT_EQ(secondaryKey({"accept", "*"}, makeFields({})), std::nullopt);
}

TEST(Vary, NoVaryIsEmptyKey) { EXPECT_EQ(secondaryKey({}, makeFields({{"A", "b"}})), ""); }

TEST(Vary, EncodesValuesCanonically) {
  const std::vector<std::string> names{"accept-encoding", "accept-language"};
  auto a = secondaryKey(names,
                        makeFields({{"Accept-Encoding", "gzip,  br"}, {"Accept-Language", "en"}}));
  auto b = secondaryKey(names, makeFields({{"accept-language", "en"},
                                           {"accept-encoding", "gzip"},
                                           {"Accept-Encoding", " br "}}));
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "accept-encoding=gzip,br\naccept-language=en\n");
  EXPECT_EQ(a, b);
  auto c = secondaryKey({"user-agent"}, makeFields({{"User-Agent", "A   b\t c"}}));
  EXPECT_EQ(*c, "user-agent=A b c\n");
}

TEST(Vary, LanguageAndCodingTokensIgnoreCase) {
  // cache-tests vary-normalise-lang-case: language tags and codings are case-insensitive.
  const std::vector<std::string> names{"accept-language", "accept-encoding"};
  auto lower = secondaryKey(
      names, makeFields({{"Accept-Language", "en, de"}, {"Accept-Encoding", "GZIP"}}));
  auto mixed = secondaryKey(
      names, makeFields({{"Accept-Language", "eN,  De"}, {"Accept-Encoding", "gzip"}}));
  ASSERT_TRUE(lower);
  EXPECT_EQ(*lower, "accept-language=en,de\naccept-encoding=gzip\n");
  EXPECT_EQ(lower, mixed);
  // Other fields keep their case: only the origin knows whether it matters.
  EXPECT_NE(secondaryKey({"x-a"}, makeFields({{"X-A", "a"}})),
            secondaryKey({"x-a"}, makeFields({{"X-A", "A"}})));
  // Order still matters.
  EXPECT_NE(secondaryKey(names, makeFields({{"Accept-Language", "en, de"}})),
            secondaryKey(names, makeFields({{"Accept-Language", "de, en"}})));
}

TEST(Vary, AbsentDiffersFromEmptyAndFromOtherValues) {
  const std::vector<std::string> names{"accept-encoding"};
  auto absent = secondaryKey(names, makeFields({}));
  auto empty = secondaryKey(names, makeFields({{"Accept-Encoding", ""}}));
  auto gzip = secondaryKey(names, makeFields({{"Accept-Encoding", "gzip"}}));
  EXPECT_NE(absent, empty);
  EXPECT_NE(absent, gzip);
  EXPECT_NE(empty, gzip);
  EXPECT_NE(gzip, secondaryKey(names, makeFields({{"Accept-Encoding", "br"}})));
}

}  // namespace
}  // namespace ec::cache
