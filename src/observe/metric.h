#pragma once
// The metric types rooms update on the hot path (Counter, Gauge, Histogram) and MetricDecl, the
// declaration each room lists its metrics with. Updates are relaxed atomics, never locks; a
// Counter is sharded across cache lines so that workers incrementing the same series do not
// bounce one line between cores, and the shards are summed only when scraped.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace ec::observe {

// One metric family as a room declares it: declared once as data (a static const object in the
// room), registered with a Registry, documented in docs/user/metrics.md by tools/gen_docs.
// Names follow Prometheus conventions: prefix edgecache_, counters end in _total, units in the
// name (_seconds, _bytes).
struct MetricDecl {
  std::string_view name;
  std::string_view help;
  enum class Type { kCounter, kGauge, kHistogram } type;
  std::vector<std::string_view> label_names;
  std::vector<double> buckets;  // histograms only: upper bounds, ascending, +Inf implied
  std::string_view unit;        // for the docs: "seconds", "bytes", "" for plain counts
};

namespace detail {
inline constexpr size_t kCacheLine = 64;
inline constexpr size_t kCounterShards = 8;
// A small per-thread index, handed out round-robin as threads first touch a counter.
size_t nextThreadShard();
inline size_t threadShard() {
  thread_local const size_t shard = nextThreadShard();
  return shard;
}
}  // namespace detail

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(uint64_t n = 1) {
    cells_[detail::threadShard()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const;

 private:
  struct alignas(detail::kCacheLine) Cell {
    std::atomic<uint64_t> value{0};
  };
  std::array<Cell, detail::kCounterShards> cells_;
};

class alignas(detail::kCacheLine) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void sub(int64_t delta) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Fixed buckets from the declaration. observe() costs a short scan of the bounds and two relaxed
// atomic adds; cumulative counts are computed only at scrape time.
class alignas(detail::kCacheLine) Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then the +Inf bucket (= count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

// Bucket sets for the common cases, so that rooms agree and dashboards can compare.
const std::vector<double>& latencySecondsBuckets();  // 0.5 ms .. 10 s
const std::vector<double>& sizeBytesBuckets();       // 256 B .. 64 MiB, powers of 4

}  // namespace ec::observe
