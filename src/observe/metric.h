#pragma once
// The metric types rooms update on the hot path (Counter, Gauge, Histogram) and MetricDecl, the
// declaration each room lists its metrics with. Updates are never locks: Counter and Histogram
// are sharded across cache lines, one shard per thread for the first threads that touch them
// (workers start first), written with a plain load and store by that thread alone — no
// lock-prefixed instruction on the hot path — and a few shared shards with atomic adds for any
// thread past those. Shards are summed only when scraped.

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
// Shards a single thread owns (the workers, which start first, and the node's few service
// threads); threads after the first kOwnedShards are spread over kSharedShards shards that take
// atomic adds, as every shard did before.
inline constexpr size_t kOwnedShards = 32;
inline constexpr size_t kSharedShards = 4;
inline constexpr size_t kShards = kOwnedShards + kSharedShards;
// 0, 1, ... once each as threads first touch a metric, then the shared shards round-robin.
size_t nextThreadShard();
inline size_t threadShard() {
  thread_local const size_t shard = nextThreadShard();
  return shard;
}
// n added to a cell of the calling thread's shard: a relaxed load and store when the thread owns
// the shard (nobody else writes it, so no increment is lost and no lock prefix is paid), an
// atomic add on the shared shard.
inline void addToShard(std::atomic<uint64_t>& cell, size_t shard, uint64_t n) {
  if (shard < kOwnedShards) {
    cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  } else {
    cell.fetch_add(n, std::memory_order_relaxed);
  }
}
}  // namespace detail

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(uint64_t n = 1) {
    const size_t shard = detail::threadShard();
    detail::addToShard(cells_[shard].value, shard, n);
  }
  uint64_t value() const;

 private:
  struct alignas(detail::kCacheLine) Cell {
    std::atomic<uint64_t> value{0};
  };
  std::array<Cell, detail::kShards> cells_;
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

// Fixed buckets from the declaration. observe() costs a short scan of the bounds and two adds
// in the calling thread's shard (see the file comment); cumulative counts are computed only at
// scrape time.
class Histogram {
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
  struct alignas(detail::kCacheLine) Line {
    std::atomic<uint64_t> cells[detail::kCacheLine / sizeof(uint64_t)];
  };
  // A shard: one count per bucket (the last is +Inf), then the sum's bits; whole lines, so two
  // threads' shards never share one.
  std::atomic<uint64_t>& cell(size_t shard, size_t index) const {
    const size_t per_line = detail::kCacheLine / sizeof(uint64_t);
    return lines_[shard * lines_per_shard_ + index / per_line].cells[index % per_line];
  }
  size_t sumIndex() const { return bounds_.size() + 1; }

  std::vector<double> bounds_;
  size_t lines_per_shard_;
  std::unique_ptr<Line[]> lines_;
};

// Bucket sets for the common cases, so that rooms agree and dashboards can compare.
const std::vector<double>& latencySecondsBuckets();  // 0.5 ms .. 10 s
const std::vector<double>& sizeBytesBuckets();       // 256 B .. 64 MiB, powers of 4

}  // namespace ec::observe
