#include "cache/invalidation.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace ec::cache {
namespace {

using testing::Header;
using testing::makeFields;
using testing::makeRequest;

using Keys = std::vector<std::string>;

Keys keysFor(http::Method method, const char* path, int status,
             std::initializer_list<Header> response_headers = {}) {
  auto request = makeRequest(method, path);
  auto response = makeFields(response_headers);
  return invalidationKeys(request, status, response, "http");
}

TEST(Invalidation, UnsafeMethodSuccessInvalidatesTarget) {
  EXPECT_EQ(keysFor(http::Method::kPost, "/a", 200), Keys{"http://example.test/a"});
  EXPECT_EQ(keysFor(http::Method::kDelete, "/a", 204), Keys{"http://example.test/a"});
  EXPECT_EQ(keysFor(http::Method::kPut, "/a", 302), Keys{"http://example.test/a"});
  EXPECT_EQ(keysFor(http::Method::kOther, "/a", 200), Keys{"http://example.test/a"});
}

TEST(Invalidation, SafeMethodsAndErrorsDoNothing) {
  EXPECT_TRUE(keysFor(http::Method::kGet, "/a", 200).empty());
  EXPECT_TRUE(keysFor(http::Method::kHead, "/a", 200).empty());
  EXPECT_TRUE(keysFor(http::Method::kOptions, "/a", 200).empty());
  EXPECT_TRUE(keysFor(http::Method::kPost, "/a", 404).empty());
  EXPECT_TRUE(keysFor(http::Method::kPost, "/a", 500).empty());
  EXPECT_TRUE(keysFor(http::Method::kPost, "/a", 100).empty());
}

TEST(Invalidation, LocationAndContentLocationSameHostOnly) {
  EXPECT_EQ(keysFor(http::Method::kPost, "/a", 201,
                    {{"Location", "/b"}, {"Content-Location", "http://EXAMPLE.test:80/c#frag"}}),
            (Keys{"http://example.test/a", "http://example.test/b", "http://example.test/c"}));
  EXPECT_EQ(keysFor(http::Method::kPost, "/a", 303, {{"Location", "http://other.test/b"}}),
            Keys{"http://example.test/a"});
  EXPECT_EQ(keysFor(http::Method::kPost, "/a", 303, {{"Location", "//other.test/b"}}),
            Keys{"http://example.test/a"});
  EXPECT_EQ(keysFor(http::Method::kPost, "/a", 303, {{"Location", "mailto:x@example.test"}}),
            Keys{"http://example.test/a"});
}

TEST(Invalidation, RelativeReferencesResolveAgainstTarget) {
  EXPECT_EQ(keysFor(http::Method::kPost, "/dir/page?x=1", 200, {{"Location", "other"}}),
            (Keys{"http://example.test/dir/page?x=1", "http://example.test/dir/other"}));
  EXPECT_EQ(keysFor(http::Method::kPost, "/dir/page", 200, {{"Location", "../up"}}),
            (Keys{"http://example.test/dir/page", "http://example.test/up"}));
  EXPECT_EQ(keysFor(http::Method::kPost, "/dir/page", 200, {{"Location", "?q=2"}}),
            (Keys{"http://example.test/dir/page", "http://example.test/dir/page?q=2"}));
  // Same key twice is listed once.
  EXPECT_EQ(keysFor(http::Method::kPost, "/a", 200, {{"Content-Location", "/a"}}),
            Keys{"http://example.test/a"});
}

}  // namespace
}  // namespace ec::cache
