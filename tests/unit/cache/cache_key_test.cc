#include "cache/cache_key.h"

#include <gtest/gtest.h>

namespace ec::cache {
namespace {

TEST(PrimaryKey, LowercasesSchemeAndHostButNotPath) {
  EXPECT_EQ(primaryKey("HTTP", "Example.TEST", "/A/b?Q=1"), "http://example.test/A/b?Q=1");
}

TEST(PrimaryKey, RemovesDefaultPortAndTrailingDot) {
  EXPECT_EQ(primaryKey("http", "example.test:80", "/"), "http://example.test/");
  EXPECT_EQ(primaryKey("https", "example.test:443", "/"), "https://example.test/");
  EXPECT_EQ(primaryKey("http", "example.test:443", "/"), "http://example.test:443/");
  EXPECT_EQ(primaryKey("http", "example.test.:8080", "/"), "http://example.test:8080/");
  EXPECT_EQ(primaryKey("http", "example.test:", "/"), "http://example.test/");
  EXPECT_EQ(primaryKey("http", "example.test:0080", "/"), "http://example.test/");
  EXPECT_EQ(primaryKey("http", "user:pw@example.test", "/"), "http://example.test/");
  EXPECT_EQ(primaryKey("http", "[::1]:80", "/"), "http://[::1]/");
  EXPECT_EQ(primaryKey("http", "[::1]", "/"), "http://[::1]/");
}

TEST(PrimaryKey, FindsThePortAfterUserinfoAndIpv6Literals) {
  EXPECT_EQ(primaryKey("http", "[::1]:8080", "/"), "http://[::1]:8080/");
  EXPECT_EQ(primaryKey("http", "u:p@[::1]:8080", "/"), "http://[::1]:8080/");
  EXPECT_EQ(primaryKey("http", "u:p@[::1]", "/"), "http://[::1]/");
  EXPECT_EQ(primaryKey("http", "u@p@Host:81", "/"), "http://host:81/");
  EXPECT_EQ(primaryKey("https", "u:p@host:0443", "/"), "https://host/");
  EXPECT_EQ(primaryKey("http", "host:08080", "/"), "http://host:8080/");
  EXPECT_EQ(primaryKey("http", "host:x1", "/"), "http://host:x1/");
}

TEST(PrimaryKey, CanonicalPortsTakeTheFastPathWithTheSameResult) {
  EXPECT_EQ(primaryKey("http", "Host:8080", "/"), "http://host:8080/");
  EXPECT_EQ(primaryKey("http", "host:65535", "/"), "http://host:65535/");
  EXPECT_EQ(primaryKey("http", "host:99999", "/"), "http://host:99999/");  // kept verbatim, as before
  EXPECT_EQ(primaryKey("http", "host:123456", "/"), "http://host:123456/");
  EXPECT_EQ(primaryKey("https", "host:80", "/"), "https://host:80/");
  EXPECT_EQ(primaryKey("http", "host:443", "/"), "http://host:443/");
  EXPECT_EQ(primaryKey("http", "host:1", "/"), "http://host:1/");
  EXPECT_EQ(primaryKey("http", "host:0", "/"), "http://host:0/");
}

TEST(PrimaryKey, InTwoPartsOrAppendedToABufferItIsTheSameKey) {
  const struct {
    const char* scheme;
    const char* authority;
    const char* target;
  } cases[] = {{"HTTP", "Example.TEST:8080", "/a/./b?x=%7e"},
               {"https", "u:p@[::1]:443", "/%41/../c"},
               {"http", "h.", "*"},
               {"http", "host:0080", ""}};
  for (const auto& c : cases) {
    const std::string expected = primaryKey(c.scheme, c.authority, c.target);
    std::string buffer = "stale bytes";
    buffer.clear();
    appendPrimaryKey(buffer, c.scheme, c.authority, c.target);
    EXPECT_EQ(buffer, expected);
    std::string parts;
    appendKeyOrigin(parts, c.scheme, c.authority);
    appendKeyTarget(parts, c.target);
    EXPECT_EQ(parts, expected);
  }
}

TEST(PrimaryKey, NormalisesPercentEscapes) {
  EXPECT_EQ(primaryKey("http", "h", "/a%2fb%7e%41"), "http://h/a%2Fb~A");
  EXPECT_EQ(primaryKey("http", "h", "/%e2%82%ac"), "http://h/%E2%82%AC");
  EXPECT_EQ(primaryKey("http", "h", "/100%"), "http://h/100%");
  EXPECT_EQ(primaryKey("http", "h", "/%zz%4"), "http://h/%zz%4");
  // Query: escape case only, unreserved escapes stay encoded.
  EXPECT_EQ(primaryKey("http", "h", "/p?a=%7e%2f&b=%41"), "http://h/p?a=%7E%2F&b=%41");
}

TEST(PrimaryKey, RemovesDotSegments) {
  EXPECT_EQ(primaryKey("http", "h", "/a/b/c/./../../g"), "http://h/a/g");
  EXPECT_EQ(primaryKey("http", "h", "/a/./b/"), "http://h/a/b/");
  EXPECT_EQ(primaryKey("http", "h", "/../../x"), "http://h/x");
  EXPECT_EQ(primaryKey("http", "h", "/a/.."), "http://h/");
  EXPECT_EQ(primaryKey("http", "h", "/a/."), "http://h/a/");
  EXPECT_EQ(primaryKey("http", "h", "/a/%2E%2E/b"), "http://h/b");  // decoded, then removed
  EXPECT_EQ(primaryKey("http", "h", "/a/..%2Fb"), "http://h/a/..%2Fb");
  EXPECT_EQ(primaryKey("http", "h", "/a/b?x=/../y"), "http://h/a/b?x=/../y");
}

TEST(PrimaryKey, KeepsDoubleSlashesAndEmptyPath) {
  EXPECT_EQ(primaryKey("http", "h", "//a//b"), "http://h//a//b");
  EXPECT_EQ(primaryKey("http", "h", ""), "http://h/");
  EXPECT_EQ(primaryKey("http", "h", "?q"), "http://h/?q");
  EXPECT_EQ(primaryKey("http", "h", "*"), "http://h*");
}

TEST(PrimaryKey, EquivalentSpellingsShareAKey) {
  EXPECT_EQ(primaryKey("http", "EXAMPLE.test.:80", "/w/%7Euser/./index.php?title=X"),
            primaryKey("http", "example.test", "/w/~user/index.php?title=X"));
  EXPECT_NE(primaryKey("http", "example.test", "/a?x=1"),
            primaryKey("http", "example.test", "/a?X=1"));
}

}  // namespace
}  // namespace ec::cache
