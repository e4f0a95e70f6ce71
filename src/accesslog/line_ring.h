#pragma once
// LineRing: a bounded single-producer single-consumer byte ring holding whole log lines. The
// producer (a worker thread) copies a line in or drops it when it does not fit; it never
// waits and never allocates. The consumer (the writer thread) reads what is there as at most
// two contiguous spans and releases them after writing.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace ec::accesslog {

class LineRing {
 public:
  explicit LineRing(size_t capacity);
  LineRing(const LineRing&) = delete;
  LineRing& operator=(const LineRing&) = delete;

  // Producer: copies `line` in whole, or returns false (nothing written) when it does not fit.
  bool push(std::string_view line);

  // Consumer: the bytes queued now, oldest first, as two spans (the second is empty unless
  // the bytes wrap around the end of the buffer).
  struct Spans {
    std::string_view first;
    std::string_view second;
    size_t size() const { return first.size() + second.size(); }
  };
  Spans readable() const;
  // Consumer: releases the first `bytes` bytes returned by readable().
  void consume(size_t bytes);

  size_t capacity() const { return capacity_; }
  size_t used() const;

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_;
  alignas(64) std::atomic<uint64_t> head_{0};  // total bytes ever written (producer)
  alignas(64) std::atomic<uint64_t> tail_{0};  // total bytes ever consumed (consumer)
};

}  // namespace ec::accesslog
