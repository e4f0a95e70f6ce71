// HTTP-date parsing and formatting (lives in http/, owned and tested with the cache policy).
#include "http/date.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace ec::http {
namespace {

constexpr WallTime kRfcExample{Seconds{784111777}};  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, ParsesTheThreeFormats) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), kRfcExample);
  EXPECT_EQ(parseHttpDate("  Sun, 06 Nov 1994 08:49:37 GMT\t"), kRfcExample);
}

TEST(HttpDate, Rfc850TwoDigitYearPivot) {
  auto date = parseHttpDate("Thursday, 01-Jan-30 00:00:00 GMT");
  ASSERT_TRUE(date);
  EXPECT_EQ(formatHttpDate(*date), "Tue, 01 Jan 2030 00:00:00 GMT");
  date = parseHttpDate("Thursday, 01-Jan-70 00:00:00 GMT");
  ASSERT_TRUE(date);
  EXPECT_EQ(date->time_since_epoch().count(), 0);
}

TEST(HttpDate, RejectsJunk) {
  for (const char* bad :
       {"", "0", "-1", "tomorrow", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun Nov 6 08:49:37 1994", "Sunday, 06-Nov-1994 08:49:37 GMT"}) {
    EXPECT_FALSE(parseHttpDate(bad)) << bad;
  }
}

TEST(HttpDate, ImfFixdateNamesInAnyCaseAndAnyDayName) {
  // IMF-fixdate has a fast reader at fixed offsets; it must agree with the general one: names
  // in any case, the day name not checked against the date (as before), everything else exact.
  const char* days[] = {"Sun", "MON", "tue", "wEd", "Thu", "FRI", "sat"};
  const char* months[] = {"jan", "FEB", "Mar", "apR", "May", "JUN",
                          "Jul", "aug", "SEP", "Oct", "nov", "DEC"};
  for (int m = 0; m < 12; ++m) {
    for (const char* day : days) {
      const std::string text = std::string(day) + ", 06 " + months[m] + " 1994 08:49:37 GMT";
      auto parsed = parseHttpDate(text);
      ASSERT_TRUE(parsed) << text;
      const std::string formatted = formatHttpDate(*parsed);
      EXPECT_EQ(formatted.substr(5, 20), text.substr(5, 3) +
                                             std::string(1, static_cast<char>(std::toupper(months[m][0]))) +
                                             std::string(1, static_cast<char>(std::tolower(months[m][1]))) +
                                             std::string(1, static_cast<char>(std::tolower(months[m][2]))) +
                                             text.substr(11, 14))
          << text;
    }
  }
  for (const char* bad : {"Sux, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nox 1994 08:49:37 GMT",
                          "Sun, 0a Nov 1994 08:49:37 GMT", "Sun, 06 Nov 19x4 08:49:37 GMT",
                          "Sun; 06 Nov 1994 08:49:37 GMT", "Sun, 06-Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08.49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMX",
                          "Sun, 06 Nov 1994 08:49:3 GMT ", "Sun, 00 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT "}) {
    // (the last one is trimmed, then valid)
    const bool expected = std::string_view(bad) == "Sun, 06 Nov 1994 08:49:37 GMT ";
    EXPECT_EQ(parseHttpDate(bad).has_value(), expected) << bad;
  }
}

TEST(HttpDate, ZoneNameInAnyCase) {
  // Day and month names are matched case-insensitively; the zone name is too.
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 gMT"), kRfcExample);
  EXPECT_EQ(parseHttpDate("sunday, 06-nov-94 08:49:37 gmt"), kRfcExample);
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 AEST"));
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 utc"));
}

TEST(HttpDate, AcceptsLeapDayAndLeapSecond) {
  EXPECT_TRUE(parseHttpDate("Thu, 29 Feb 2024 12:00:00 GMT"));
  EXPECT_FALSE(parseHttpDate("Thu, 29 Feb 2023 12:00:00 GMT"));
  auto leap = parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT");
  ASSERT_TRUE(leap);
  EXPECT_EQ(formatHttpDate(*leap), "Sat, 31 Dec 2016 23:59:59 GMT");
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(formatHttpDate(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(formatHttpDate(WallTime{}), "Thu, 01 Jan 1970 00:00:00 GMT");
  std::string out = "Date: ";
  appendHttpDate(out, WallTime{Seconds{1'700'000'000}});
  EXPECT_EQ(out, "Date: Tue, 14 Nov 2023 22:13:20 GMT");
}

TEST(HttpDate, RoundTripsAcrossYears) {
  for (int64_t t = 0; t < 4'000'000'000; t += 86'400 * 37 + 3'601) {
    const WallTime time{Seconds{t}};
    EXPECT_EQ(parseHttpDate(formatHttpDate(time)), time) << t;
  }
}

}  // namespace
}  // namespace ec::http
