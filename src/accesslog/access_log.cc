#include "accesslog/access_log.h"

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace ec::accesslog {
namespace {

std::atomic<uint64_t> g_next_id{1};

struct ThreadRing {
  uint64_t owner = 0;
  LineRing* ring = nullptr;
};
thread_local ThreadRing t_ring;
thread_local std::string t_line;

}  // namespace

AccessLog::AccessLog(AccessLogOptions options, std::vector<std::unique_ptr<Sink>> sinks)
    : id_(g_next_id.fetch_add(1)),
      options_(options),
      sinks_(std::move(sinks)),
      sink_lines_(new std::atomic<uint64_t>[sinks_.size() + 1]) {
  for (size_t i = 0; i <= sinks_.size(); ++i) sink_lines_[i].store(0);
  batch_.reserve(256 * 1024);
}

AccessLog::~AccessLog() { stop(); }

void AccessLog::start() {
  if (writer_.joinable()) return;
  writer_ = std::thread([this] { run(); });
}

void AccessLog::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) {
    writer_.join();
  } else {
    drainOnce(true);  // never started (tests): still deliver what was queued
  }
}

LineRing& AccessLog::ringForThisThread() {
  if (t_ring.owner == id_) return *t_ring.ring;
  std::lock_guard lock(rings_mutex_);
  rings_.push_back(std::make_unique<LineRing>(options_.queue_bytes));
  t_ring.owner = id_;
  t_ring.ring = rings_.back().get();
  return *t_ring.ring;
}

bool AccessLog::submit(AccessRecord& record) {
  record.sequence = sequence_.fetch_add(1, std::memory_order_relaxed);
  std::string& line = t_line;
  line.clear();
  appendJsonLine(record, line);
  LineRing& ring = ringForThisThread();
  if (!ring.push(line)) {
    stats_.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  stats_.lines_queued.fetch_add(1, std::memory_order_relaxed);
  if (ring.used() > ring.capacity() / 2 && !wake_requested_.exchange(true)) wake_.notify_one();
  return true;
}

void AccessLog::reopen() {
  reopen_requested_.store(true);
  wake_requested_.store(true);
  wake_.notify_one();
}

uint64_t AccessLog::linesWritten(size_t sink) const {
  return sink < sinks_.size() ? sink_lines_[sink].load(std::memory_order_relaxed) : 0;
}

std::vector<std::string_view> AccessLog::sinkNames() const {
  std::vector<std::string_view> names;
  for (const auto& sink : sinks_) names.push_back(sink->name());
  return names;
}

uint64_t AccessLog::queuedBytes() const {
  std::lock_guard lock(rings_mutex_);
  uint64_t total = 0;
  for (const auto& ring : rings_) total += ring->used();
  return total;
}

void AccessLog::flushForTest() {
  std::unique_lock lock(wake_mutex_);
  if (!writer_.joinable() || stopping_) {
    lock.unlock();
    drainOnce(false);
    return;
  }
  // Two complete passes after this point: the first may have started before the call.
  const uint64_t target = passes_ + 2;
  wake_requested_.store(true);
  wake_.notify_one();
  drained_.wait(lock, [&] { return passes_ >= target || stopping_; });
}

namespace {
// Lines in a batch of whole lines, by memchr (vectorised in libc): a byte loop here cost more
// per logged request than rendering half its fields.
uint64_t countLines(std::string_view batch) {
  uint64_t lines = 0;
  const char* at = batch.data();
  const char* const end = at + batch.size();
  while (at < end) {
    const void* newline = std::memchr(at, '\n', static_cast<size_t>(end - at));
    if (newline == nullptr) break;
    ++lines;
    at = static_cast<const char*>(newline) + 1;
  }
  return lines;
}
}  // namespace

size_t AccessLog::drainOnce(bool final) {
  if (reopen_requested_.exchange(false)) {
    for (auto& sink : sinks_) {
      if (auto reopened = sink->reopen(); !reopened.ok()) {
        stats_.reopen_failures.fetch_add(1, std::memory_order_relaxed);
        EC_LOG_ERROR("%s (keeping the old file)", reopened.error().describe().c_str());
      } else {
        stats_.reopens.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  std::vector<LineRing*> rings;
  {
    std::lock_guard lock(rings_mutex_);
    rings.reserve(rings_.size());
    for (const auto& ring : rings_) rings.push_back(ring.get());
  }
  size_t total = 0;
  for (LineRing* ring : rings) {
    const LineRing::Spans spans = ring->readable();
    if (spans.size() == 0) continue;
    batch_.clear();
    batch_.append(spans.first);
    batch_.append(spans.second);
    ring->consume(spans.size());
    total += batch_.size();
    const uint64_t lines = countLines(batch_);
    for (size_t i = 0; i < sinks_.size(); ++i) {
      uint64_t lost = 0;
      auto written = sinks_[i]->write(batch_, lost);
      sink_lines_[i].fetch_add(lines - std::min(lost, lines), std::memory_order_relaxed);
      if (!written.ok()) {
        stats_.dropped_sink_error.fetch_add(lost, std::memory_order_relaxed);
        EC_LOG_EVERY_SECOND(LogLevel::kError, "%s", written.error().describe().c_str());
      }
    }
  }
  for (auto& sink : sinks_) {
    sink->poll(final);
    if (const uint64_t lost = sink->takeAsyncLost(); lost != 0) {
      stats_.dropped_sink_error.fetch_add(lost, std::memory_order_relaxed);
      EC_LOG_EVERY_SECOND(LogLevel::kError, "access log: %llu lines not delivered to %s",
                          static_cast<unsigned long long>(lost), std::string(sink->name()).c_str());
    }
  }
  return total;
}

void AccessLog::run() {
  std::unique_lock lock(wake_mutex_);
  while (true) {
    const bool stopping = stopping_;
    lock.unlock();
    drainOnce(stopping);
    lock.lock();
    ++passes_;
    drained_.notify_all();
    if (stopping) break;
    if (!wake_requested_.exchange(false)) {
      wake_.wait_for(lock, options_.flush_interval,
                     [this] { return stopping_ || wake_requested_.load(); });
      wake_requested_.store(false);
    }
  }
}

}  // namespace ec::accesslog
