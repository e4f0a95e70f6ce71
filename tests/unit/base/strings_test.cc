#include "base/strings.h"

#include <gtest/gtest.h>

#include "base/result.h"

namespace ec {
namespace {

TEST(Strings, ParseDecimalRejectsAnythingButDigits) {
  EXPECT_EQ(parseDecimal("0005"), 5u);
  EXPECT_FALSE(parseDecimal(""));
  EXPECT_FALSE(parseDecimal("+5"));
  EXPECT_FALSE(parseDecimal("-1"));
  EXPECT_FALSE(parseDecimal("5 "));
  EXPECT_FALSE(parseDecimal("0x5"));
  EXPECT_FALSE(parseDecimal("99999999999999999999"));
  EXPECT_EQ(parseDecimal("18446744073709551615"), 18446744073709551615ull);
}

TEST(Strings, ByteSizesAreBinaryMultiples) {
  EXPECT_EQ(parseByteSize("256MiB"), 256ull << 20);
  EXPECT_EQ(parseByteSize("1g"), 1ull << 30);
  EXPECT_EQ(parseByteSize("4096"), 4096u);
  EXPECT_FALSE(parseByteSize("12 parsecs"));
  EXPECT_FALSE(parseByteSize("99999999999TiB"));
}

TEST(Strings, Durations) {
  EXPECT_EQ(parseDurationMillis("500ms"), 500u);
  EXPECT_EQ(parseDurationMillis("10s"), 10'000u);
  EXPECT_EQ(parseDurationMillis("1d"), 86'400'000u);
  EXPECT_EQ(parseDurationMillis("30"), 30'000u);
  EXPECT_FALSE(parseDurationMillis("1w"));
}

TEST(Strings, TrimAndCase) {
  EXPECT_EQ(trimOws(" \tchunked \t"), "chunked");
  EXPECT_TRUE(equalsIgnoreCase("TrAnSFer-EnCODinG", "transfer-encoding"));
  EXPECT_FALSE(equalsIgnoreCase("Transfer_Encoding", "transfer-encoding"));
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = fail(Error::downstream(ErrorKind::kParse, "bad byte"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().describe(), "downstream parse: bad byte");
}

}  // namespace
}  // namespace ec
