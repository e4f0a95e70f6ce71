// Hot-path metrics are updated from every worker at once: no increment may be lost.

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "observe/registry.h"

namespace ec::observe {
namespace {

constexpr int kThreads = 8;
constexpr int kIncrementsPerThread = 100000;

TEST(CounterConcurrencyTest, NoIncrementIsLost) {
  const MetricDecl decl{"edgecache_test_total", "Test.", MetricDecl::Type::kCounter};
  Registry registry;
  Counter& counter = registry.counter(decl);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < kIncrementsPerThread; ++i) counter.inc();
    });
  }
  // Scrapes run while the workers increment: they must see a monotonic, never-torn value.
  uint64_t previous = 0;
  for (int i = 0; i < 50; ++i) {
    const uint64_t now = counter.value();
    EXPECT_GE(now, previous);
    previous = now;
    registry.renderPrometheus();
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), uint64_t{kThreads} * kIncrementsPerThread);
  EXPECT_NE(registry.renderPrometheus().find("edgecache_test_total 800000\n"), std::string::npos);
}

TEST(CounterConcurrencyTest, GaugeAndHistogramUnderContention) {
  const MetricDecl gauge_decl{"edgecache_test_open", "Test.", MetricDecl::Type::kGauge};
  const MetricDecl histogram_decl{
      "edgecache_test_seconds", "Test.", MetricDecl::Type::kHistogram, {}, {1, 2}};
  Registry registry;
  Gauge& gauge = registry.gauge(gauge_decl);
  Histogram& histogram = registry.histogram(histogram_decl);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrementsPerThread / 10; ++i) {
        gauge.add(1);
        histogram.observe(t % 2 == 0 ? 0.5 : 1.5);
        gauge.sub(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(gauge.value(), 0);
  Histogram::Snapshot snapshot = histogram.snapshot();
  const uint64_t per_half = uint64_t{kThreads / 2} * (kIncrementsPerThread / 10);
  EXPECT_EQ(snapshot.cumulative[0], per_half);
  EXPECT_EQ(snapshot.cumulative[1], 2 * per_half);
  EXPECT_EQ(snapshot.count, 2 * per_half);
  EXPECT_DOUBLE_EQ(snapshot.sum, 0.5 * per_half + 1.5 * per_half);
}

// The first threads own a shard each and write it without atomic read-modify-writes; the rest
// share a few with atomic adds. Enough threads here that both kinds run at once, whatever earlier
// tests in this process took: the totals must still be exact.
TEST(CounterConcurrencyTest, ThreadsPastTheOwnedShardsShareAndLoseNothing) {
  const MetricDecl counter_decl{"edgecache_test_many_total", "Test.", MetricDecl::Type::kCounter};
  const MetricDecl histogram_decl{
      "edgecache_test_many_seconds", "Test.", MetricDecl::Type::kHistogram, {}, {1}};
  Registry registry;
  Counter& counter = registry.counter(counter_decl);
  Histogram& histogram = registry.histogram(histogram_decl);
  constexpr int kManyThreads = 2 * static_cast<int>(detail::kOwnedShards);
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kManyThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        counter.inc(2);
        histogram.observe(0.25);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), uint64_t{2} * kManyThreads * kEach);
  Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, uint64_t{kManyThreads} * kEach);
  EXPECT_EQ(snapshot.cumulative[0], uint64_t{kManyThreads} * kEach);
  EXPECT_DOUBLE_EQ(snapshot.sum, 0.25 * kManyThreads * kEach);
}

TEST(CounterConcurrencyTest, SeriesCreatedConcurrentlyAreShared) {
  const MetricDecl decl{"edgecache_test_total", "Test.", MetricDecl::Type::kCounter, {"k"}};
  Registry registry;
  std::vector<std::thread> threads;
  std::vector<Counter*> seen(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      seen[t] = &registry.counter(decl, {"same"});
      seen[t]->inc();
    });
  }
  for (auto& thread : threads) thread.join();
  for (Counter* counter : seen) EXPECT_EQ(counter, seen[0]);
  EXPECT_EQ(seen[0]->value(), uint64_t{kThreads});
}

}  // namespace
}  // namespace ec::observe
