#include "cache/freshness.h"

#include <gtest/gtest.h>

#include "http/date.h"
#include "test_util.h"

namespace ec::cache {
namespace {

using testing::makeRequest;
using testing::makeResponse;

constexpr WallTime kNow{Seconds{1'700'000'000}};

std::string dateAt(int64_t offset) { return http::formatHttpDate(kNow + Seconds{offset}); }

ObjectMeta metaFor(const http::ResponseHead& response, const PolicyConfig& config = {},
                   WallTime request_time = kNow, WallTime response_time = kNow) {
  return makeObjectMeta(makeRequest(http::Method::kGet, "/"), response, request_time, response_time,
                        config);
}

TEST(Freshness, LifetimePrecedence) {
  const std::string date = dateAt(0), expires = dateAt(300), lm = dateAt(-10000);
  EXPECT_EQ(metaFor(makeResponse(200, {{"Date", date},
                                       {"Cache-Control", "max-age=60, s-maxage=90"},
                                       {"Expires", expires}}))
                .freshness_lifetime,
            90);
  EXPECT_EQ(
      metaFor(makeResponse(200,
                           {{"Date", date}, {"Cache-Control", "max-age=60"}, {"Expires", expires}}))
          .freshness_lifetime,
      60);
  EXPECT_EQ(
      metaFor(makeResponse(200, {{"Date", date}, {"Expires", expires}, {"Last-Modified", lm}}))
          .freshness_lifetime,
      300);
  const ObjectMeta heuristic = metaFor(makeResponse(200, {{"Date", date}, {"Last-Modified", lm}}));
  EXPECT_EQ(heuristic.freshness_lifetime, 1000);
  EXPECT_TRUE(heuristic.heuristic_freshness);
}

TEST(Freshness, ExpiresRelativeToDateAndInvalidExpiresIsExpired) {
  // Date 100 s in the past: Expires - Date is what counts, not Expires - now.
  EXPECT_EQ(metaFor(makeResponse(200, {{"Date", dateAt(-100)}, {"Expires", dateAt(50)}}))
                .freshness_lifetime,
            150);
  EXPECT_EQ(metaFor(makeResponse(200, {{"Date", dateAt(0)}, {"Expires", "0"}})).freshness_lifetime,
            0);
  EXPECT_EQ(
      metaFor(makeResponse(200, {{"Date", dateAt(0)}, {"Expires", dateAt(-5)}})).freshness_lifetime,
      0);
}

TEST(Freshness, HeuristicOnlyForHeuristicStatusesOrPublic) {
  const std::string date = dateAt(0), lm = dateAt(-10000);
  EXPECT_EQ(metaFor(makeResponse(302, {{"Date", date}, {"Last-Modified", lm}})).freshness_lifetime,
            0);
  EXPECT_EQ(metaFor(makeResponse(
                        302, {{"Date", date}, {"Last-Modified", lm}, {"Cache-Control", "public"}}))
                .freshness_lifetime,
            1000);
  EXPECT_EQ(metaFor(makeResponse(404, {{"Date", date}, {"Last-Modified", lm}})).freshness_lifetime,
            1000);
}

TEST(Freshness, HeuristicCapDefaultTtlAndTtlCap) {
  PolicyConfig config;
  config.heuristic_cap = 500;
  const std::string date = dateAt(0);
  EXPECT_EQ(metaFor(makeResponse(200, {{"Date", date}, {"Last-Modified", dateAt(-100000)}}), config)
                .freshness_lifetime,
            500);
  config.default_ttl = 42;
  EXPECT_EQ(metaFor(makeResponse(200, {{"Date", date}}), config).freshness_lifetime, 42);
  config.ttl_cap = 3600;
  EXPECT_EQ(
      metaFor(makeResponse(200, {{"Date", date}, {"Cache-Control", "max-age=999999"}}), config)
          .freshness_lifetime,
      3600);
  config.ttl_cap = 0;  // disabled
  EXPECT_EQ(
      metaFor(makeResponse(200, {{"Date", date}, {"Cache-Control", "max-age=999999"}}), config)
          .freshness_lifetime,
      999999);
}

TEST(Freshness, AResponseWithoutDateIsStoredWithTheTimeItArrived) {
  // RFC 9110 §6.6.1: a cache that stores a response without Date adds one (its receipt time).
  const ObjectMeta dateless = metaFor(makeResponse(200, {{"Cache-Control", "max-age=60"}}), {},
                                      kNow, kNow + Seconds{3});
  EXPECT_NE(dateless.head.find("Date: " + dateAt(3) + "\r\n"), std::string::npos) << dateless.head;
  EXPECT_EQ(dateless.corrected_initial_age, 3);  // apparent age 0, plus the response delay
  // An origin's own Date is kept as it is, and no second one is added.
  const ObjectMeta dated = metaFor(makeResponse(200, {{"Date", dateAt(-7)}}), {}, kNow, kNow);
  EXPECT_NE(dated.head.find("Date: " + dateAt(-7)), std::string::npos);
  EXPECT_EQ(dated.head.find("Date:"), dated.head.rfind("Date:"));
}

TEST(Freshness, CorrectedInitialAge) {
  // Upstream Age 30, response took 2 s: corrected_age_value = 32.
  const ObjectMeta meta =
      metaFor(makeResponse(200, {{"Date", dateAt(0)}, {"Age", "30"}}), {}, kNow, kNow + Seconds{2});
  EXPECT_EQ(meta.corrected_initial_age, 32);
  EXPECT_EQ(currentAge(meta, kNow + Seconds{12}), 42);
  // Date 50 s behind the response time: apparent age wins.
  const ObjectMeta old = metaFor(makeResponse(200, {{"Date", dateAt(-50)}, {"Age", "10"}}));
  EXPECT_EQ(old.corrected_initial_age, 50);
  // Date in the future (origin clock ahead) never gives a negative age.
  const ObjectMeta ahead = metaFor(makeResponse(200, {{"Date", dateAt(100)}}));
  EXPECT_EQ(ahead.corrected_initial_age, 0);
  EXPECT_EQ(currentAge(ahead, kNow - Seconds{5}), 0);
  // A huge Age clamps to 2^31; a broken Age is ignored.
  EXPECT_EQ(metaFor(makeResponse(200, {{"Date", dateAt(0)}, {"Age", "999999999999999999999999"}}))
                .corrected_initial_age,
            2147483648);
  EXPECT_EQ(metaFor(makeResponse(200, {{"Date", dateAt(0)}, {"Age", "-3"}})).corrected_initial_age,
            0);
}

TEST(Freshness, AgeIsASingletonAndOnlyItsFirstValueCounts) {
  // cache-tests age-parse-*: "old, 0" is old, "0, old" is 0, parameters are ignored, a float
  // or negative value is ignored, and only the first Age line counts.
  auto ageOf = [](std::initializer_list<testing::Header> headers) {
    return metaFor(makeResponse(200, headers)).corrected_initial_age;
  };
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", "7200, 0"}}), 7200);
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", "0, 7200"}}), 0);
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", "7200;foo=bar"}}), 7200);
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", "7200"}, {"Age", "0"}}), 7200);
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", "0"}, {"Age", "7200"}}), 0);
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", "7200.0"}}), 0);
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", "abc"}}), 0);
  EXPECT_EQ(ageOf({{"Date", dateAt(0)}, {"Age", ", 5"}}), 0);
}

TEST(Freshness, FillsDirectivesValidatorsVaryAndHead) {
  auto response = makeResponse(
      200, {{"Date", dateAt(0)},
            {"Connection", "close, X-Hop"},
            {"X-Hop", "1"},
            {"Keep-Alive", "timeout=5"},
            {"Cache-Control", "no-cache, s-maxage=5, stale-while-revalidate=7, stale-if-error=9"},
            {"ETag", "\"v1\""},
            {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"},
            {"Age", "3"},
            {"Content-Length", "5"},
            {"Transfer-Encoding", "chunked"},
            {"Vary", "Accept-Encoding"},
            {"Content-Type", "text/plain"}});
  response.framing = http::BodyFraming::kContentLength;
  response.content_length = 5;
  const ObjectMeta meta = metaFor(response);
  EXPECT_EQ(meta.status, 200);
  EXPECT_TRUE(meta.no_cache);
  EXPECT_TRUE(meta.must_revalidate);  // implied by s-maxage
  EXPECT_EQ(meta.stale_while_revalidate, 7);
  EXPECT_EQ(meta.stale_if_error, 9);
  EXPECT_EQ(meta.etag, "\"v1\"");
  EXPECT_EQ(meta.last_modified_time, WallTime{Seconds{784111777}});
  EXPECT_EQ(meta.vary_names, std::vector<std::string>{"accept-encoding"});
  EXPECT_EQ(meta.content_length, 5);
  EXPECT_EQ(meta.head, "Date: " + dateAt(0) +
                           "\r\nCache-Control: no-cache, s-maxage=5, stale-while-revalidate=7, "
                           "stale-if-error=9\r\nETag: \"v1\"\r\nLast-Modified: Sun, 06 Nov 1994 "
                           "08:49:37 GMT\r\nVary: Accept-Encoding\r\nContent-Type: text/plain\r\n");
}

TEST(Freshness, NoDateMeansDatedOnArrival) {
  const ObjectMeta meta = metaFor(makeResponse(200, {{"Expires", dateAt(60)}}));
  EXPECT_EQ(meta.freshness_lifetime, 60);
  EXPECT_EQ(meta.corrected_initial_age, 0);
}

TEST(Freshness, NotModifiedReplacesFieldsAndFreshness) {
  auto original = makeResponse(200, {{"Date", dateAt(0)},
                                     {"Cache-Control", "max-age=10"},
                                     {"ETag", "\"v1\""},
                                     {"X-Old", "keep"},
                                     {"X-Both", "old"}});
  original.framing = http::BodyFraming::kContentLength;
  original.content_length = 11;
  ObjectMeta meta = metaFor(original);
  const WallTime later = kNow + Seconds{100};
  auto not_modified = makeResponse(304, {{"Date", http::formatHttpDate(later)},
                                         {"Cache-Control", "max-age=50, stale-if-error=5"},
                                         {"ETag", "\"v1\""},
                                         {"X-Both", "new"},
                                         {"Content-Length", "0"},
                                         {"Connection", "close"}});
  ASSERT_TRUE(notModifiedSelects(meta, not_modified));
  updateFromNotModified(meta, not_modified, later, later, PolicyConfig{});
  EXPECT_EQ(meta.freshness_lifetime, 50);
  EXPECT_EQ(meta.stale_if_error, 5);
  EXPECT_EQ(meta.content_length, 11);
  EXPECT_EQ(currentAge(meta, later), 0);
  EXPECT_EQ(meta.head, "X-Old: keep\r\nDate: " + http::formatHttpDate(later) +
                           "\r\nCache-Control: max-age=50, stale-if-error=5\r\nETag: \"v1\"\r\n"
                           "X-Both: new\r\n");
}

TEST(Freshness, NotModifiedWithoutDateIsDatedOnArrival) {
  ObjectMeta meta = metaFor(makeResponse(
      200, {{"Date", dateAt(0)}, {"Cache-Control", "max-age=10"}, {"ETag", "\"v1\""}}));
  const WallTime later = kNow + Seconds{1000};
  updateFromNotModified(meta, makeResponse(304, {{"Cache-Control", "max-age=10"}}), later, later,
                        PolicyConfig{});
  EXPECT_EQ(currentAge(meta, later), 0);
  EXPECT_NE(meta.head.find("Date: " + http::formatHttpDate(later)), std::string::npos);
}

TEST(Freshness, NotModifiedSelection) {
  const ObjectMeta meta =
      metaFor(makeResponse(200, {{"ETag", "\"v1\""}, {"Last-Modified", dateAt(-5)}}));
  EXPECT_TRUE(notModifiedSelects(meta, makeResponse(304, {{"ETag", "\"v1\""}})));
  EXPECT_FALSE(notModifiedSelects(meta, makeResponse(304, {{"ETag", "\"v2\""}})));
  EXPECT_TRUE(notModifiedSelects(meta, makeResponse(304, {})));
  EXPECT_FALSE(notModifiedSelects(meta, makeResponse(304, {{"Last-Modified", dateAt(-1)}})));
}

TEST(Freshness, StoredHeadRoundTrips) {
  http::Fields fields;
  parseStoredHead("A: 1\r\nB:2\r\nbroken\r\nC: x: y\r\n", fields);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields.get("b"), "2");
  EXPECT_EQ(fields.get("c"), "x: y");
}

}  // namespace
}  // namespace ec::cache
