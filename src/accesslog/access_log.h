#pragma once
// AccessLog: the access log pipeline. Workers call submit() at the end of each transaction:
// the record is rendered as a JSON line into a thread-local buffer and copied into that
// thread's bounded LineRing (registered on the thread's first submit). A full ring drops the
// line and counts it (edgecache_access_log_dropped_total{reason="queue_full"}); a worker never
// waits for the disk or Kafka. One writer thread drains every ring about every flush
// interval (sooner when a ring is half full) and hands the batch to each sink; reopen()
// (SIGUSR1) makes the writer reopen its files between batches.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "accesslog/access_record.h"
#include "accesslog/line_ring.h"
#include "accesslog/sink.h"
#include "base/time_source.h"

namespace ec::accesslog {

struct AccessLogOptions {
  size_t queue_bytes = size_t{1} << 20;  // per producing thread
  Millis flush_interval{100};
  bool log_purges = false;  // PURGE requests are left out unless set (as varnishkafka's filter)
};

struct AccessLogStats {
  std::atomic<uint64_t> lines_queued{0};
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> dropped_sink_error{0};
  std::atomic<uint64_t> reopens{0};
  std::atomic<uint64_t> reopen_failures{0};
};

class AccessLog {
 public:
  AccessLog(AccessLogOptions options, std::vector<std::unique_ptr<Sink>> sinks);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void start();
  // Drains every ring into the sinks one last time and joins the writer.
  void stop();

  // Any thread. Sets record.sequence, renders and queues the line; false when it was dropped.
  bool submit(AccessRecord& record);
  // Any thread: the writer reopens its sinks before its next batch.
  void reopen();

  const AccessLogOptions& options() const { return options_; }
  const AccessLogStats& stats() const { return stats_; }
  // Lines each sink accepted, by sink index; bytes queued in all rings now.
  uint64_t linesWritten(size_t sink) const;
  std::vector<std::string_view> sinkNames() const;
  Sink& sink(size_t index) { return *sinks_[index]; }
  uint64_t queuedBytes() const;

  // Blocks until every line submitted before the call has been handed to the sinks.
  void flushForTest();

 private:
  LineRing& ringForThisThread();
  void run();
  // One pass over every ring; returns the number of bytes handed to the sinks.
  size_t drainOnce(bool final);

  const uint64_t id_;  // tells thread-local ring caches of different instances apart
  AccessLogOptions options_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::unique_ptr<std::atomic<uint64_t>[]> sink_lines_;
  AccessLogStats stats_;
  std::atomic<uint64_t> sequence_{0};

  mutable std::mutex rings_mutex_;  // guards rings_ (taken once per thread, and by the writer)
  std::vector<std::unique_ptr<LineRing>> rings_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  uint64_t passes_ = 0;  // writer passes completed (guarded by wake_mutex_)
  std::atomic<bool> wake_requested_{false};
  std::atomic<bool> reopen_requested_{false};
  bool stopping_ = false;  // guarded by wake_mutex_
  std::thread writer_;
  std::string batch_;  // writer thread only
};

}  // namespace ec::accesslog
