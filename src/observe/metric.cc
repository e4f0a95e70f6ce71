#include "observe/metric.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace ec::observe {

size_t detail::nextThreadShard() {
  static std::atomic<size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % kCounterShards;
}

uint64_t Counter::value() const {
  uint64_t total = 0;
  for (const Cell& cell : cells_) total += cell.value.load(std::memory_order_relaxed);
  return total;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  EC_CHECK(!bounds_.empty());
  EC_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;  // would poison the sum for good
  // Bucket i holds bounds_[i-1] < value <= bounds_[i]; "le" is inclusive. A scan from the
  // smallest bound, not a binary search: most observations (fast requests, small sizes) land in
  // the first buckets, so this usually costs one or two comparisons.
  size_t bucket = 0;
  const size_t bounds = bounds_.size();
  while (bucket < bounds && bounds_[bucket] < value) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  // Adding zero (a hit answered within one loop iteration) leaves the sum as it is: skip the
  // compare-and-swap loop a floating-point atomic add is.
  if (value != 0) sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
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
