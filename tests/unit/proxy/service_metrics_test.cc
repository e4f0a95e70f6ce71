// ServiceMetrics: series appear on first use with the service, cache result and status class
// as labels, later uses hit the same series, and a table hands one block per service name (so
// a reload keeps the series).

#include "proxy/service_metrics.h"

#include <gtest/gtest.h>

namespace ec::proxy {
namespace {

TEST(ServiceMetrics, CreatesLabelledSeriesOnFirstUse) {
  observe::Registry registry;
  ServiceMetricsTable table(registry);
  std::shared_ptr<ServiceMetrics> wiki = table.forService("wiki");
  EXPECT_EQ(registry.renderPrometheus().find("edgecache_client_ttfb_seconds_count{"),
            std::string::npos);
  wiki->clientTtfb(CacheResult::kHit, 2).observe(0.001);
  wiki->clientTtfb(CacheResult::kHit, 2).observe(0.002);
  wiki->clientTotal(CacheResult::kMiss, 5).observe(0.5);
  EXPECT_EQ(&wiki->clientTtfb(CacheResult::kHit, 2), &wiki->clientTtfb(CacheResult::kHit, 2));
  EXPECT_NE(&wiki->clientTtfb(CacheResult::kHit, 2), &wiki->clientTtfb(CacheResult::kHit, 3));
  const std::string text = registry.renderPrometheus();
  EXPECT_NE(text.find("edgecache_client_ttfb_seconds_count{service=\"wiki\",cache_result=\"hit\","
                      "status_class=\"2xx\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("edgecache_client_response_seconds_count{service=\"wiki\",cache_result="
                      "\"miss\",status_class=\"5xx\"} 1"),
            std::string::npos)
      << text;
}

TEST(ServiceMetrics, OneBlockPerServiceNameAndOddClassesAreFiledAs5xx) {
  observe::Registry registry;
  ServiceMetricsTable table(registry);
  EXPECT_EQ(table.forService("wiki").get(), table.forService("wiki").get());
  EXPECT_NE(table.forService("wiki").get(), table.forService("api").get());
  EXPECT_EQ(&table.forService("api")->clientTtfb(CacheResult::kPass, 0),
            &table.forService("api")->clientTtfb(CacheResult::kPass, 5));
  observe::Histogram* origin = table.originTtfb("api", "api/10.0.0.1:80");
  origin->observe(0.01);
  EXPECT_EQ(origin, table.originTtfb("api", "api/10.0.0.1:80"));
  EXPECT_NE(registry.renderPrometheus().find(
                "edgecache_origin_ttfb_seconds_count{service=\"api\",origin=\"api/10.0.0.1:80\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace ec::proxy
