#include "observe/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ec::observe {
namespace {

using Type = MetricDecl::Type;

const MetricDecl kLookups{
    "edgecache_cache_lookups_total", "Cache lookups by result.", Type::kCounter, {"result"}};
const MetricDecl kConnections{"edgecache_connections_open", "Client connections open now.",
                              Type::kGauge};
const MetricDecl kLatency{"edgecache_request_duration_seconds",
                          "Time from first request byte to last response byte.",
                          Type::kHistogram,
                          {"method"},
                          {0.005, 0.1, 1},
                          "seconds"};

TEST(RegistryTest, EmptyRegistryRendersNothing) {
  Registry registry;
  EXPECT_EQ(registry.renderPrometheus(), "");
}

TEST(RegistryTest, SameLabelsReturnTheSameSeries) {
  Registry registry;
  Counter& hit = registry.counter(kLookups, {"hit"});
  Counter& miss = registry.counter(kLookups, {"miss"});
  EXPECT_EQ(&hit, &registry.counter(kLookups, {"hit"}));
  EXPECT_NE(&hit, &miss);
  hit.inc();
  hit.inc(4);
  EXPECT_EQ(registry.counter(kLookups, {"hit"}).value(), 5u);
  EXPECT_EQ(miss.value(), 0u);
}

TEST(RegistryTest, GoldenExposition) {
  Registry registry;
  registry.counter(kLookups, {"miss"}).inc(2);
  registry.counter(kLookups, {"hit"}).inc(40);
  Gauge& open = registry.gauge(kConnections);
  open.add(5);
  open.sub(2);
  Histogram& get = registry.histogram(kLatency, {"GET"});
  get.observe(0.001);
  get.observe(0.005);  // "le" is inclusive: lands in the 0.005 bucket
  get.observe(0.5);
  get.observe(30);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP edgecache_cache_lookups_total Cache lookups by result.\n"
            "# TYPE edgecache_cache_lookups_total counter\n"
            "edgecache_cache_lookups_total{result=\"hit\"} 40\n"
            "edgecache_cache_lookups_total{result=\"miss\"} 2\n"
            "# HELP edgecache_connections_open Client connections open now.\n"
            "# TYPE edgecache_connections_open gauge\n"
            "edgecache_connections_open 3\n"
            "# HELP edgecache_request_duration_seconds Time from first request byte to last "
            "response byte.\n"
            "# TYPE edgecache_request_duration_seconds histogram\n"
            "edgecache_request_duration_seconds_bucket{method=\"GET\",le=\"0.005\"} 2\n"
            "edgecache_request_duration_seconds_bucket{method=\"GET\",le=\"0.1\"} 2\n"
            "edgecache_request_duration_seconds_bucket{method=\"GET\",le=\"1\"} 3\n"
            "edgecache_request_duration_seconds_bucket{method=\"GET\",le=\"+Inf\"} 4\n"
            "edgecache_request_duration_seconds_sum{method=\"GET\"} 30.506\n"
            "edgecache_request_duration_seconds_count{method=\"GET\"} 4\n");
}

TEST(RegistryTest, HistogramWithoutLabels) {
  const MetricDecl sizes{"edgecache_object_size_bytes", "Sizes.", Type::kHistogram, {}, {10, 100}};
  Registry registry;
  registry.histogram(sizes).observe(100);
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP edgecache_object_size_bytes Sizes.\n"
            "# TYPE edgecache_object_size_bytes histogram\n"
            "edgecache_object_size_bytes_bucket{le=\"10\"} 0\n"
            "edgecache_object_size_bytes_bucket{le=\"100\"} 1\n"
            "edgecache_object_size_bytes_bucket{le=\"+Inf\"} 1\n"
            "edgecache_object_size_bytes_sum 100\n"
            "edgecache_object_size_bytes_count 1\n");
}

TEST(RegistryTest, HistogramBucketsAreInclusiveAndZeroIsCounted) {
  Histogram histogram({0.5, 1.0, 2.0});
  histogram.observe(0);
  histogram.observe(0.5);
  histogram.observe(0.75);
  histogram.observe(2.0);
  histogram.observe(3.0);
  Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.cumulative, (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 6.25);
}

TEST(RegistryTest, NanObservationIsIgnored) {
  Histogram histogram({1.0});
  histogram.observe(std::nan(""));
  histogram.observe(0.5);
  Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, 1u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 0.5);
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  const MetricDecl decl{
      "edgecache_odd_total", "Help with \\ and\nnewline.", Type::kCounter, {"path"}};
  Registry registry;
  registry.counter(decl, {"a\"b\\c\nd"}).inc();
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP edgecache_odd_total Help with \\\\ and\\nnewline.\n"
            "# TYPE edgecache_odd_total counter\n"
            "edgecache_odd_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(RegistryTest, CallbacksAreReadAtScrapeTime) {
  const MetricDecl bytes{"edgecache_memory_tier_bytes", "Bytes held.", Type::kGauge, {"tier"}};
  Registry registry;
  double held = 1.5;
  registry.callback(bytes, {"memory"}, [&held] { return held; });
  EXPECT_EQ(registry.renderPrometheus(),
            "# HELP edgecache_memory_tier_bytes Bytes held.\n"
            "# TYPE edgecache_memory_tier_bytes gauge\n"
            "edgecache_memory_tier_bytes{tier=\"memory\"} 1.5\n");
  held = 1e21;
  EXPECT_NE(
      registry.renderPrometheus().find("edgecache_memory_tier_bytes{tier=\"memory\"} 1e+21\n"),
      std::string::npos);
}

TEST(RegistryTest, CollectorsRunBeforeEachScrape) {
  Registry registry;
  int scrapes = 0;
  registry.addCollector([&scrapes](Registry& r) { r.gauge(kConnections).set(++scrapes * 10); });
  EXPECT_NE(registry.renderPrometheus().find("edgecache_connections_open 10\n"), std::string::npos);
  EXPECT_NE(registry.renderPrometheus().find("edgecache_connections_open 20\n"), std::string::npos);
}

TEST(RegistryTest, FormatsValuesAsPrometheusReadsThem) {
  EXPECT_EQ(formatValue(0.1), "0.1");
  EXPECT_EQ(formatValue(3), "3");
  EXPECT_EQ(formatValue(0.0025), "0.0025");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatValue(std::nan("")), "NaN");
}

TEST(RegistryTest, StandardBucketsAreAscending) {
  for (const auto* buckets : {&latencySecondsBuckets(), &sizeBytesBuckets()}) {
    ASSERT_FALSE(buckets->empty());
    EXPECT_TRUE(std::is_sorted(buckets->begin(), buckets->end()));
  }
  EXPECT_EQ(sizeBytesBuckets().front(), 256);
  EXPECT_EQ(sizeBytesBuckets().back(), 64.0 * 1024 * 1024);
}

TEST(RegistryTest, RenderDocsIsATableSortedByName) {
  const std::string docs = Registry::renderDocs({&kLatency, &kLookups, &kConnections});
  const std::string lookups =
      "| `edgecache_cache_lookups_total` | counter | `result` |  | Cache lookups by result. |\n";
  const std::string connections =
      "| `edgecache_connections_open` | gauge |  |  | Client connections open now. |\n";
  const std::string latency =
      "| `edgecache_request_duration_seconds` | histogram | `method` | seconds | Time from first "
      "request byte to last response byte. Buckets: 0.005 0.1 1. |\n";
  ASSERT_NE(docs.find(lookups), std::string::npos) << docs;
  ASSERT_NE(docs.find(connections), std::string::npos) << docs;
  ASSERT_NE(docs.find(latency), std::string::npos) << docs;
  EXPECT_LT(docs.find(lookups), docs.find(connections));
  EXPECT_LT(docs.find(connections), docs.find(latency));
}

TEST(RegistryDeathTest, MisdeclaredMetricsAreBugs) {
  Registry registry;
  const MetricDecl no_total{"edgecache_lookups", "x", Type::kCounter};
  const MetricDecl no_prefix{"lookups_total", "x", Type::kCounter};
  const MetricDecl clash{"edgecache_cache_lookups_total", "x", Type::kCounter, {"kind"}};
  EXPECT_DEATH(registry.counter(no_total), "");
  EXPECT_DEATH(registry.counter(no_prefix), "");
  registry.counter(kLookups, {"hit"});
  EXPECT_DEATH(registry.counter(clash, {"x"}), "");
  EXPECT_DEATH(registry.counter(kLookups), "");  // wrong number of label values
}

}  // namespace
}  // namespace ec::observe
