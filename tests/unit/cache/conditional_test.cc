#include "cache/conditional.h"

#include <gtest/gtest.h>

#include "http/date.h"
#include "test_util.h"

namespace ec::cache {
namespace {

using testing::Header;
using testing::makeRequest;

constexpr const char* kLastModified = "Sun, 06 Nov 1994 08:49:37 GMT";

ObjectMeta stored(const char* etag = "\"v1\"") {
  ObjectMeta meta;
  meta.status = 200;
  meta.etag = etag;
  meta.last_modified = kLastModified;
  return meta;
}

ConditionalResult evaluate(std::initializer_list<Header> headers,
                           http::Method method = http::Method::kGet,
                           const ObjectMeta& meta = stored()) {
  return evaluateConditional(makeRequest(method, "/", headers), meta);
}

TEST(Conditional, FieldNamesAreFoundInAnyCaseAmongOthers) {
  EXPECT_EQ(evaluate({{"Accept", "*/*"}, {"IF-NONE-MATCH", "\"v1\""}}), ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"User-Agent", "x"}, {"iF-mAtCh", "\"v2\""}}),
            ConditionalResult::kPreconditionFailed);
  EXPECT_EQ(evaluate({{"If-Modified-Since", kLastModified}}), ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"Accept", "*/*"}, {"If-Range", "\"v1\""}}), ConditionalResult::kNone);
  EXPECT_EQ(evaluate({{"Accept", "*/*"}}), ConditionalResult::kNone);
}

TEST(Conditional, IfNoneMatchWeakComparison) {
  EXPECT_EQ(evaluate({{"If-None-Match", "\"v1\""}}), ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "W/\"v1\""}}), ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "\"a\", \"v1\""}}), ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "*"}}), ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "\"v2\""}}), ConditionalResult::kNone);
  EXPECT_EQ(evaluate({{"If-None-Match", "v1"}}), ConditionalResult::kNone);
  EXPECT_EQ(evaluate({{"If-None-Match", "\"v1\""}}, http::Method::kHead),
            ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-None-Match", "\"v1\""}}, http::Method::kGet, stored("W/\"v1\"")),
            ConditionalResult::kNotModified);
}

TEST(Conditional, IfNoneMatchEchoOfAMalformedEtag) {
  // cache-tests conditional-etag-strong-respond-unquote and the weak-flag variants: a tag
  // that is not a valid entity-tag matches only its exact echo.
  for (const char* tag : {"abcdef", "w/\"abcdef\"", "W\\\"abcdef\"", "W\"abcdef\""}) {
    EXPECT_EQ(evaluate({{"If-None-Match", tag}}, http::Method::kGet, stored(tag)),
              ConditionalResult::kNotModified)
        << tag;
  }
  EXPECT_EQ(evaluate({{"If-None-Match", "abcdeg"}}, http::Method::kGet, stored("abcdef")),
            ConditionalResult::kNone);
  // One malformed side never matches a valid one, and strong comparison stays strict.
  EXPECT_EQ(evaluate({{"If-None-Match", "abcdef"}}, http::Method::kGet, stored("\"abcdef\"")),
            ConditionalResult::kNone);
  EXPECT_FALSE(strongEtagMatch("abcdef", "abcdef"));
}

TEST(Conditional, IfNoneMatchWinsOverIfModifiedSince) {
  EXPECT_EQ(evaluate({{"If-None-Match", "\"v2\""}, {"If-Modified-Since", kLastModified}}),
            ConditionalResult::kNone);
}

TEST(Conditional, IfModifiedSince) {
  EXPECT_EQ(evaluate({{"If-Modified-Since", kLastModified}}), ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT"}}),
            ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}),
            ConditionalResult::kNone);
  EXPECT_EQ(evaluate({{"If-Modified-Since", "garbage"}}), ConditionalResult::kNone);
  // Without Last-Modified the stored Date counts, then the arrival time (RFC 9111 §4.3.2,
  // cache-tests conditional-lm-fresh-no-lm).
  ObjectMeta no_lm = stored();
  no_lm.last_modified.clear();
  no_lm.head = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
  EXPECT_EQ(evaluate({{"If-Modified-Since", kLastModified}}, http::Method::kGet, no_lm),
            ConditionalResult::kNotModified);
  EXPECT_EQ(evaluate({{"If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}},
                     http::Method::kGet, no_lm),
            ConditionalResult::kNone);
  ObjectMeta no_date = stored();
  no_date.last_modified.clear();
  no_date.response_time = *http::parseHttpDate("Tue, 08 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(evaluate({{"If-Modified-Since", kLastModified}}, http::Method::kGet, no_date),
            ConditionalResult::kNone);
  no_date.response_time = *http::parseHttpDate("Sat, 05 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(evaluate({{"If-Modified-Since", kLastModified}}, http::Method::kGet, no_date),
            ConditionalResult::kNotModified);
}

TEST(Conditional, IfMatchAndIfUnmodifiedSince) {
  EXPECT_EQ(evaluate({{"If-Match", "\"v2\""}}), ConditionalResult::kPreconditionFailed);
  EXPECT_EQ(evaluate({{"If-Match", "\"v1\""}}), ConditionalResult::kNone);
  EXPECT_EQ(evaluate({{"If-Match", "*"}}), ConditionalResult::kNone);
  EXPECT_EQ(evaluate({{"If-Match", "\"v1\""}}, http::Method::kGet, stored("W/\"v1\"")),
            ConditionalResult::kPreconditionFailed);  // strong comparison
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}),
            ConditionalResult::kPreconditionFailed);
  EXPECT_EQ(evaluate({{"If-Unmodified-Since", kLastModified}}), ConditionalResult::kNone);
  // If-Match present: If-Unmodified-Since is not evaluated.
  EXPECT_EQ(
      evaluate({{"If-Match", "\"v1\""}, {"If-Unmodified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}),
      ConditionalResult::kNone);
}

TEST(Conditional, UnsafeMethodWithMatchingIfNoneMatchFails) {
  EXPECT_EQ(evaluate({{"If-None-Match", "*"}}, http::Method::kPut),
            ConditionalResult::kPreconditionFailed);
  EXPECT_EQ(evaluate({{"If-Modified-Since", kLastModified}}, http::Method::kPost),
            ConditionalResult::kNone);
}

TEST(Conditional, OnlyFor2xx) {
  ObjectMeta meta = stored();
  meta.status = 404;
  EXPECT_EQ(evaluate({{"If-None-Match", "\"v1\""}}, http::Method::kGet, meta),
            ConditionalResult::kNone);
}

TEST(Conditional, AppendValidators) {
  http::Fields out;
  appendValidators(out, stored());
  EXPECT_EQ(out.get("if-none-match"), "\"v1\"");
  EXPECT_EQ(out.get("if-modified-since"), kLastModified);
  http::Fields none;
  appendValidators(none, ObjectMeta{});
  EXPECT_TRUE(none.empty());
}

TEST(Conditional, IfRange) {
  const ObjectMeta meta = stored();
  auto check = [&](std::initializer_list<Header> headers, const ObjectMeta& m) {
    return ifRangeMatches(makeRequest(http::Method::kGet, "/", headers), m);
  };
  EXPECT_TRUE(check({}, meta));
  EXPECT_TRUE(check({{"If-Range", "\"v1\""}}, meta));
  EXPECT_FALSE(check({{"If-Range", "\"v2\""}}, meta));
  EXPECT_FALSE(check({{"If-Range", "W/\"v1\""}}, meta));
  EXPECT_FALSE(check({{"If-Range", "\"v1\""}}, stored("W/\"v1\"")));
  EXPECT_TRUE(check({{"If-Range", kLastModified}}, meta));
  EXPECT_FALSE(check({{"If-Range", "Mon, 07 Nov 1994 08:49:37 GMT"}}, meta));
  EXPECT_FALSE(check({{"If-Range", "junk"}}, meta));
}

}  // namespace
}  // namespace ec::cache
