#include "observe/metric.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/check.h"

namespace ec::observe {

size_t detail::nextThreadShard() {
  static std::atomic<size_t> next{0};
  const size_t shard = next.fetch_add(1, std::memory_order_relaxed);
  return shard < kOwnedShards ? shard : kOwnedShards + shard % kSharedShards;
}

uint64_t Counter::value() const {
  uint64_t total = 0;
  for (const Cell& cell : cells_) total += cell.value.load(std::memory_order_relaxed);
  return total;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      lines_per_shard_((bounds_.size() + 2 + detail::kCacheLine / sizeof(uint64_t) - 1) /
                       (detail::kCacheLine / sizeof(uint64_t))),
      lines_(new Line[detail::kShards * lines_per_shard_]) {
  EC_CHECK(!bounds_.empty());
  EC_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (size_t shard = 0; shard < detail::kShards; ++shard) {
    for (size_t i = 0; i <= sumIndex(); ++i) {
      cell(shard, i).store(i == sumIndex() ? std::bit_cast<uint64_t>(0.0) : 0,
                           std::memory_order_relaxed);
    }
  }
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;  // would poison the sum for good
  // Bucket i holds bounds_[i-1] < value <= bounds_[i]; "le" is inclusive. A scan from the
  // smallest bound, not a binary search: most observations (fast requests, small sizes) land in
  // the first buckets, so this usually costs one or two comparisons.
  size_t bucket = 0;
  const size_t bounds = bounds_.size();
  while (bucket < bounds && bounds_[bucket] < value) ++bucket;
  const size_t shard = detail::threadShard();
  detail::addToShard(cell(shard, bucket), shard, 1);
  // Adding zero (a hit answered within one loop iteration) leaves the sum as it is.
  if (value == 0) return;
  std::atomic<uint64_t>& sum = cell(shard, sumIndex());
  if (shard < detail::kOwnedShards) {
    const double total = std::bit_cast<double>(sum.load(std::memory_order_relaxed)) + value;
    sum.store(std::bit_cast<uint64_t>(total), std::memory_order_relaxed);
    return;
  }
  uint64_t seen = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(seen, std::bit_cast<uint64_t>(std::bit_cast<double>(seen) + value),
                                    std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  std::vector<uint64_t> counts(bounds_.size() + 1, 0);
  for (size_t shard = 0; shard < detail::kShards; ++shard) {
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      counts[i] += cell(shard, i).load(std::memory_order_relaxed);
    }
    snapshot.sum += std::bit_cast<double>(cell(shard, sumIndex()).load(std::memory_order_relaxed));
  }
  uint64_t running = 0;
  for (uint64_t count : counts) {
    running += count;
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  return snapshot;
}

const std::vector<double>& latencySecondsBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

const std::vector<double>& sizeBytesBuckets() {
  static const std::vector<double> buckets = [] {
    std::vector<double> out;
    for (double bound = 256; bound <= 64.0 * 1024 * 1024; bound *= 4) out.push_back(bound);
    return out;
  }();
  return buckets;
}

}  // namespace ec::observe
