#include "accesslog/line_ring.h"

#include <algorithm>
#include <cstring>

namespace ec::accesslog {

LineRing::LineRing(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}

bool LineRing::push(std::string_view line) {
  const uint64_t head = head_.load(std::memory_order_relaxed);
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  if (line.size() > capacity_ - static_cast<size_t>(head - tail)) return false;
  const size_t start = static_cast<size_t>(head % capacity_);
  const size_t first = std::min(line.size(), capacity_ - start);
  std::memcpy(data_.get() + start, line.data(), first);
  if (first < line.size()) std::memcpy(data_.get(), line.data() + first, line.size() - first);
  head_.store(head + line.size(), std::memory_order_release);
  return true;
}

LineRing::Spans LineRing::readable() const {
  const uint64_t tail = tail_.load(std::memory_order_relaxed);
  const uint64_t head = head_.load(std::memory_order_acquire);
  const size_t size = static_cast<size_t>(head - tail);
  const size_t start = static_cast<size_t>(tail % capacity_);
  const size_t first = std::min(size, capacity_ - start);
  Spans spans;
  spans.first = std::string_view(data_.get() + start, first);
  if (first < size) spans.second = std::string_view(data_.get(), size - first);
  return spans;
}

void LineRing::consume(size_t bytes) {
  tail_.store(tail_.load(std::memory_order_relaxed) + bytes, std::memory_order_release);
}

size_t LineRing::used() const {
  return static_cast<size_t>(head_.load(std::memory_order_acquire) -
                             tail_.load(std::memory_order_acquire));
}

}  // namespace ec::accesslog
