#include "config/address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace ec::config {
namespace {

TEST(AddressTest, ParsesHostPortForms) {
  auto v4 = parseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_TRUE(v4->literal);
  EXPECT_FALSE(v4->ipv6);

  auto v6 = parseHostPort("[::1]:443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 443);
  EXPECT_TRUE(v6->ipv6);

  auto name = parseHostPort("origin-1.example.org:80");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "origin-1.example.org");
  EXPECT_FALSE(name->literal);
}

TEST(AddressTest, RefusesMalformedAddresses) {
  for (const char* bad :
       {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x",
        "::1:8080", "[::1]", "[::1", "[zz]:80", "-bad-:80", "a..b:80", "under_score:80"}) {
    EXPECT_FALSE(parseHostPort(bad).ok()) << bad;
  }
}

TEST(AddressTest, CidrContainment) {
  auto block = parseCidr("10.1.0.0/16");
  ASSERT_TRUE(block.ok());
  uint8_t inside[4] = {10, 1, 200, 3};
  uint8_t outside[4] = {10, 2, 0, 1};
  EXPECT_TRUE(block->contains(inside, false));
  EXPECT_FALSE(block->contains(outside, false));

  auto odd = parseCidr("192.168.1.128/25");
  ASSERT_TRUE(odd.ok());
  uint8_t high[4] = {192, 168, 1, 200};
  uint8_t low[4] = {192, 168, 1, 100};
  EXPECT_TRUE(odd->contains(high, false));
  EXPECT_FALSE(odd->contains(low, false));

  auto loopback6 = parseCidr("::1/128");
  ASSERT_TRUE(loopback6.ok());
  uint8_t one[16] = {};
  one[15] = 1;
  EXPECT_TRUE(loopback6->contains(one, true));
  EXPECT_FALSE(loopback6->contains(inside, false));  // families never match each other

  auto bare = parseCidr("127.0.0.1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->prefix_len, 32);
  auto everything = parseCidr("0.0.0.0/0");
  ASSERT_TRUE(everything.ok());
  EXPECT_TRUE(everything->contains(outside, false));

  EXPECT_FALSE(parseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(parseCidr("::/129").ok());
  EXPECT_FALSE(parseCidr("10.0.0.0/x").ok());
  EXPECT_FALSE(parseCidr("host.example/8").ok());
}

TEST(AddressTest, HostPatterns) {
  for (const char* good : {"*", "en.wiki.test", "*.wiki.test", "localhost", "a-b.c"}) {
    EXPECT_TRUE(checkHostPattern(good).ok()) << good;
  }
  for (const char* bad : {"", "*.", "**", "a.*.test", "*wiki.test", "EN.wiki.test", "en.wiki.test.",
                          "en.wiki.test:80", "-a.test", "a b"}) {
    EXPECT_FALSE(checkHostPattern(bad).ok()) << bad;
  }
  EXPECT_TRUE(hostMatchesPattern("anything.example", "*"));
  EXPECT_TRUE(hostMatchesPattern("en.wiki.test", "*.wiki.test"));
  EXPECT_TRUE(hostMatchesPattern("a.b.wiki.test", "*.wiki.test"));
  EXPECT_FALSE(hostMatchesPattern("wiki.test", "*.wiki.test"));  // not the apex
  EXPECT_FALSE(hostMatchesPattern("badwiki.test", "*.wiki.test"));
  EXPECT_TRUE(hostMatchesPattern("en.wiki.test", "en.wiki.test"));
  EXPECT_FALSE(hostMatchesPattern("de.wiki.test", "en.wiki.test"));
}

}  // namespace
}  // namespace ec::config
