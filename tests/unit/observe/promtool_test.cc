// The exposition must satisfy Prometheus' own parser and linter, not only our golden strings.
// promtool comes with Debian's prometheus package (scripts/install-deps test).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "observe/process_metrics.h"
#include "observe/registry.h"

namespace ec::observe {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

using Type = MetricDecl::Type;

// Runs `promtool check metrics` on `text`; returns its exit status and output.
int promtoolCheck(const std::string& text, std::string& output) {
  const std::string out_path = testing::TempDir() + "promtool_test.out";
  const std::string command = std::string(kPromtool) + " check metrics > " + out_path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "w");
  if (pipe == nullptr) return -1;
  std::fwrite(text.data(), 1, text.size(), pipe);
  const int status = pclose(pipe);
  std::ifstream file(out_path);
  std::ostringstream read;
  read << file.rdbuf();
  output = read.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PromtoolTest, AcceptsARenderedSample) {
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << "promtool not installed";
  const MetricDecl lookups{
      "edgecache_cache_lookups_total", "Cache lookups by result.", Type::kCounter, {"result"}};
  const MetricDecl open{"edgecache_connections_open", "Client connections open now.", Type::kGauge};
  const MetricDecl latency{"edgecache_request_duration_seconds",
                           "Request duration.",
                           Type::kHistogram,
                           {"method"},
                           latencySecondsBuckets(),
                           "seconds"};
  const MetricDecl odd{
      "edgecache_odd_total", "Odd \\ help\nwith a newline.", Type::kCounter, {"path"}};
  Registry registry;
  registry.counter(lookups, {"hit"}).inc(7);
  registry.counter(lookups, {"miss"}).inc(3);
  registry.gauge(open).set(-2);
  registry.histogram(latency, {"GET"}).observe(0.003);
  registry.histogram(latency, {"HEAD"}).observe(12);
  registry.counter(odd, {"a\"b\\c\nd"}).inc();
  registerProcessMetrics(registry);
  const std::string text = registry.renderPrometheus();
  std::string output;
  EXPECT_EQ(promtoolCheck(text, output), 0) << output << "\n--- input ---\n" << text;
}

TEST(PromtoolTest, RejectsABrokenSample) {
  // Proves the check above can fail: a counter without _total and a bad label escape.
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << "promtool not installed";
  std::string output;
  EXPECT_NE(promtoolCheck("# HELP x_bad Bad.\n# TYPE x_bad counter\nx_bad{a=\"\\q\"} 1\n", output),
            0)
      << output;
}

}  // namespace
}  // namespace ec::observe
