#include "observe/process_metrics.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace ec::observe {
namespace {

// A real /proc/<pid>/stat line whose command name holds a space and a parenthesis.
constexpr std::string_view kStat =
    "4242 (edge cache) worker) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 3 0 "
    "12345 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessMetricsTest, ParsesStatFields) {
  ProcessStats stats = parseProcStat(kStat, 100, 4096, 1700000000);
  ASSERT_TRUE(stats.cpu_seconds);
  EXPECT_DOUBLE_EQ(*stats.cpu_seconds, 3.0);  // (250 + 50) ticks / 100
  ASSERT_TRUE(stats.start_time_seconds);
  EXPECT_DOUBLE_EQ(*stats.start_time_seconds, 1700000000 + 123.45);
  ASSERT_TRUE(stats.virtual_bytes);
  EXPECT_DOUBLE_EQ(*stats.virtual_bytes, 104857600);
  ASSERT_TRUE(stats.resident_bytes);
  EXPECT_DOUBLE_EQ(*stats.resident_bytes, 2560.0 * 4096);
}

TEST(ProcessMetricsTest, GarbageYieldsNothing) {
  ProcessStats stats = parseProcStat("not a stat line", 100, 4096, 1);
  EXPECT_FALSE(stats.cpu_seconds);
  EXPECT_FALSE(stats.resident_bytes);
  stats = parseProcStat("1 (x) S 1 2", 100, 4096, 1);
  EXPECT_FALSE(stats.cpu_seconds);
}

TEST(ProcessMetricsTest, ReadsThisProcess) {
  ProcessStats before = readProcessStats();
  ASSERT_TRUE(before.open_fds);
  ASSERT_TRUE(before.resident_bytes);
  EXPECT_GT(*before.resident_bytes, 0);
  ASSERT_TRUE(before.start_time_seconds);
  EXPECT_GT(*before.start_time_seconds, 1.5e9);
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(*readProcessStats().open_fds, *before.open_fds + 1);
  close(fd);
}

TEST(ProcessMetricsTest, RegisteredSeriesAppearInTheExposition) {
  Registry registry;
  registerProcessMetrics(registry);
  const std::string text = registry.renderPrometheus();
  for (const MetricDecl* decl : metricDecls()) {
    EXPECT_NE(text.find("# TYPE " + std::string(decl->name) + " "), std::string::npos)
        << decl->name;
    EXPECT_NE(text.find("\n" + std::string(decl->name) + " "), std::string::npos) << decl->name;
  }
  EXPECT_NE(text.find("# TYPE edgecache_process_cpu_seconds_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace ec::observe
