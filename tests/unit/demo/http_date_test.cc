#include "demo/http_date.h"

#include <gtest/gtest.h>

namespace ec::demo {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(formatHttpDate(WallTime{Seconds{784111777}}), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(formatHttpDate(WallTime{Seconds{0}}), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, ParsesWhatItFormats) {
  for (int64_t t : {0LL, 784111777LL, 1700000000LL, 951782400LL /* 29 Feb 2000 */}) {
    auto parsed = parseHttpDate(formatHttpDate(WallTime{Seconds{t}}));
    ASSERT_TRUE(parsed) << t;
    EXPECT_EQ(parsed->time_since_epoch().count(), t);
  }
}

TEST(HttpDate, RejectsOtherForms) {
  EXPECT_FALSE(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(parseHttpDate("Sun Nov  6 08:49:37 1994"));
  EXPECT_FALSE(parseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT"));
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nov 1994 25:49:37 GMT"));
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nox 1994 08:49:37 GMT"));
  EXPECT_FALSE(parseHttpDate(""));
}

}  // namespace
}  // namespace ec::demo
