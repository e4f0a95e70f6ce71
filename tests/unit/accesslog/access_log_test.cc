// The pipeline: per-thread rings, the writer thread, drops when a ring is full, reopen after
// the file was moved away (logrotate), and lines from several threads all arriving whole.

#include "accesslog/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "accesslog/file_sink.h"
#include "accesslog/line_ring.h"

namespace ec::accesslog {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A sink that keeps what it is given (the file sink is tested against a real file below).
class MemorySink final : public Sink {
 public:
  std::string_view name() const override { return "memory"; }
  Status write(std::string_view batch, uint64_t& lost) override {
    lost = 0;
    std::lock_guard lock(mutex);
    text.append(batch);
    return {};
  }
  std::mutex mutex;
  std::string text;
};

AccessRecord record(std::string_view path) {
  AccessRecord r;
  r.hostname = "node";
  r.http_method = "GET";
  r.uri_host = "wiki.test";
  r.uri_path = path;
  r.http_status = 200;
  return r;
}

TEST(LineRingTest, WrapsAroundAndRefusesWhatDoesNotFit) {
  LineRing ring(16);
  EXPECT_TRUE(ring.push("0123456789\n"));  // 11 bytes
  EXPECT_FALSE(ring.push("abcdef\n"));     // 7 more would not fit
  auto spans = ring.readable();
  EXPECT_EQ(spans.first, "0123456789\n");
  ring.consume(spans.size());
  EXPECT_TRUE(ring.push("abcdefghij\n"));  // wraps: 5 at the end, 6 at the start
  spans = ring.readable();
  EXPECT_EQ(std::string(spans.first) + std::string(spans.second), "abcdefghij\n");
  EXPECT_FALSE(spans.second.empty());
  ring.consume(spans.size());
  EXPECT_EQ(ring.used(), 0u);
}

TEST(AccessLogTest, LinesFromManyThreadsArriveWholeWithUniqueSequences) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* memory = sink.get();
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(sink));
  AccessLogOptions options;
  options.flush_interval = Millis{5};
  options.queue_bytes = 1 << 20;
  AccessLog log(options, std::move(sinks));
  log.start();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log] {
      for (int i = 0; i < kPerThread; ++i) {
        AccessRecord r = record("/wiki/Page");
        log.submit(r);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  log.stop();
  const auto all = lines(memory->text);
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::string> sequences;
  for (const std::string& line : all) {
    ASSERT_EQ(line.front(), '{');
    ASSERT_EQ(line.back(), '}');
    const size_t at = line.find("\"sequence\":");
    ASSERT_NE(at, std::string::npos);
    sequences.insert(line.substr(at + 11, line.find(',', at) - at - 11));
  }
  EXPECT_EQ(sequences.size(), all.size());
  EXPECT_EQ(log.linesWritten(0), all.size());
  EXPECT_EQ(log.stats().dropped_queue_full.load(), 0u);
}

TEST(AccessLogTest, AFullQueueDropsAndCountsInsteadOfWaiting) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* memory = sink.get();
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(sink));
  AccessLogOptions options;
  options.queue_bytes = 4096;  // a few lines only; the writer is not started yet
  AccessLog log(options, std::move(sinks));
  int accepted = 0;
  for (int i = 0; i < 100; ++i) {
    AccessRecord r = record("/wiki/Page");
    if (log.submit(r)) ++accepted;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 100);
  EXPECT_EQ(log.stats().dropped_queue_full.load(), static_cast<uint64_t>(100 - accepted));
  log.stop();  // delivers what was queued
  EXPECT_EQ(lines(memory->text).size(), static_cast<size_t>(accepted));
}

TEST(AccessLogTest, ReopenFollowsARotatedFile) {
  const std::string path = testing::TempDir() + "access_log_reopen.jsonl";
  const std::string rotated = path + ".1";
  std::remove(path.c_str());
  std::remove(rotated.c_str());
  auto file = FileSink::open(path);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(*file));
  AccessLogOptions options;
  options.flush_interval = Millis{5};
  AccessLog log(options, std::move(sinks));
  log.start();
  AccessRecord first = record("/before");
  log.submit(first);
  log.flushForTest();
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  log.reopen();
  log.flushForTest();
  AccessRecord second = record("/after");
  log.submit(second);
  log.stop();
  EXPECT_NE(readFile(rotated).find("/before"), std::string::npos);
  EXPECT_EQ(readFile(rotated).find("/after"), std::string::npos);
  EXPECT_NE(readFile(path).find("/after"), std::string::npos);
  EXPECT_EQ(log.stats().reopens.load(), 1u);
}

TEST(AccessLogTest, OpeningAnUnwritablePathIsAnError) {
  auto file = FileSink::open("/nonexistent-dir/access.log");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().describe().find("/nonexistent-dir/access.log"), std::string::npos);
}

}  // namespace
}  // namespace ec::accesslog
