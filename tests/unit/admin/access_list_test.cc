#include "admin/access_list.h"

#include <gtest/gtest.h>

namespace ec::admin {
namespace {

net::SocketAddress at(const char* text) { return *net::parseSocketAddress(text); }

TEST(AccessList, AllowsOnlyListedRanges) {
  auto list = AccessList::parse({"127.0.0.1/32", "::1/128", "10.0.0.0/8"});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->allows(at("127.0.0.1:1")));
  EXPECT_TRUE(list->allows(at("[::1]:1")));
  EXPECT_TRUE(list->allows(at("10.200.3.4:1")));
  EXPECT_FALSE(list->allows(at("127.0.0.2:1")));
  EXPECT_FALSE(list->allows(at("11.0.0.1:1")));
  EXPECT_FALSE(list->allows(at("[::2]:1")));
}

TEST(AccessList, EmptyListAllowsNobody) {
  auto list = AccessList::parse({});
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE(list->allows(at("127.0.0.1:1")));
}

TEST(AccessList, MappedIpv4MatchesIpv4Ranges) {
  auto list = AccessList::parse({"127.0.0.0/8"});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->allows(at("[::ffff:127.0.0.9]:1")));
}

TEST(AccessList, RejectsGarbage) {
  EXPECT_FALSE(AccessList::parse({"not-an-ip"}).ok());
  EXPECT_FALSE(AccessList::parse({"10.0.0.0/33"}).ok());
  EXPECT_FALSE(AccessList::parse({"10.0.0.0/x"}).ok());
}

}  // namespace
}  // namespace ec::admin
