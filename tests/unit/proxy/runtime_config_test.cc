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

}  // namespace
}  // namespace ec::proxy
