#include "proxy/runtime_config.h"

#include <gtest/gtest.h>

namespace ec::proxy {
namespace {

TEST(RuntimeConfig, HostOnlyNormalises) {
  EXPECT_EQ(hostOnly("En.Wiki.Test.:80"), "en.wiki.test");
  EXPECT_EQ(hostOnly("[::1]:8080"), "[::1]");
  EXPECT_EQ(hostOnly("a.test"), "a.test");
}

TEST(RuntimeConfig, ExactBeatsLongestSuffixBeatsWildcard) {
  RuntimeConfig config;
  ServiceRoute all{"all", {}, {}, true, {}};
  ServiceRoute wiki{"wiki", {}, {".wiki.test"}, false, {}};
  ServiceRoute en{"en", {}, {".en.wiki.test"}, false, {}};
  ServiceRoute exact{"exact", {"api.wiki.test"}, {}, false, {}};
  config.services = {all, wiki, en, exact};
  EXPECT_EQ(config.routeFor("api.wiki.test")->name, "exact");
  EXPECT_EQ(config.routeFor("m.en.wiki.test:443")->name, "en");
  EXPECT_EQ(config.routeFor("fr.wiki.test")->name, "wiki");
  EXPECT_EQ(config.routeFor("wiki.test")->name, "all");  // "*.wiki.test" needs a label
  EXPECT_EQ(config.routeFor("other.example")->name, "all");
  config.services = {wiki};
  EXPECT_EQ(config.routeFor("other.example"), nullptr);
}

// The hash index answers exactly as the scan does, on every kind of host, including ties
// (the service listed first wins) and hosts longer than the routing buffer.
TEST(RuntimeConfig, HostIndexRoutesLikeTheScan) {
  RuntimeConfig scanned;
  scanned.services = {
      ServiceRoute{"all", {}, {}, true, {}},
      ServiceRoute{"wiki", {"wiki.test"}, {".wiki.test"}, false, {}},
      ServiceRoute{"en", {}, {".en.wiki.test"}, false, {}},
      ServiceRoute{"exact", {"api.wiki.test", "Upper.Test"}, {}, false, {}},
      ServiceRoute{"dup", {"api.wiki.test"}, {".wiki.test"}, false, {}},
      ServiceRoute{"all2", {}, {}, true, {}},
  };
  RuntimeConfig indexed = scanned;
  indexed.indexHosts();
  const std::string long_host = std::string(300, 'a') + ".en.wiki.test";
  for (const std::string& host :
       {std::string("api.wiki.test"), std::string("API.Wiki.Test.:8080"), std::string("wiki.test"),
        std::string("m.en.wiki.test"), std::string("en.wiki.test"), std::string("x.y.wiki.test"),
        std::string(".wiki.test"), std::string("other"), std::string("[::1]:80"), std::string(""),
        std::string("upper.test"), long_host}) {
    const ServiceRoute* a = scanned.routeFor(host);
    const ServiceRoute* b = indexed.routeFor(host);
    ASSERT_EQ(a == nullptr, b == nullptr) << host;
    if (a != nullptr) {
      EXPECT_EQ(a->name, b->name) << host;
    }
  }
  EXPECT_EQ(indexed.routeFor(long_host)->name, "en");
  EXPECT_EQ(indexed.routeFor("api.wiki.test")->name, "exact");
  EXPECT_EQ(indexed.routeFor("x.y.wiki.test")->name, "wiki");
}

}  // namespace
}  // namespace ec::proxy
