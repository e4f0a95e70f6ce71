#pragma once
// IoPool: a few threads that run blocking file I/O (pread) for the disk tier, so event loops
// never wait on a disk (docs/design/disk-io.md says why threads and not io_uring). The queue is
// bounded: submit() refuses work past the bound and the caller treats it as a miss.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ec::storage {

class IoPool {
 public:
  IoPool(size_t threads, size_t max_queued);
  ~IoPool();  // runs what is queued, then joins
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  bool submit(std::function<void()> task);
  size_t queued() const;

 private:
  void run();

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ec::storage
