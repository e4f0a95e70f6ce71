#pragma once
// EventLoop: one epoll loop per worker thread. Owns fd readiness dispatch, timers, deferred
// calls and thread-safe posts (an eventfd wakes the loop). Everything registered with a loop
// runs on that loop's thread only; other threads talk to it through post().
// Why hand-rolled epoll and not libevent/libuv: see docs/design/event-loop.md.

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "base/time_source.h"

namespace ec::net {

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP / EPOLLRDHUP bits.
  virtual void onIo(uint32_t events) = 0;
};

class EventLoop;

// A one-shot timer owned by its user; cancelled automatically when destroyed. Timers live in
// an intrusive binary heap (each knows its slot), so arming, re-arming and cancelling are
// O(log n) in the number of armed timers and leave no garbage behind: a connection can re-arm
// its idle timer on every request.
class Timer {
 public:
  Timer() = default;
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void arm(EventLoop& loop, MonoTime deadline, std::function<void()> callback);
  void cancel();
  bool armed() const { return heap_index_ != kNotArmed; }
  // When an armed timer fires (meaningless while not armed).
  MonoTime deadline() const { return deadline_; }

 private:
  friend class EventLoop;
  static constexpr size_t kNotArmed = static_cast<size_t>(-1);
  std::function<void()> callback_;
  EventLoop* loop_ = nullptr;
  MonoTime deadline_{};
  size_t heap_index_ = kNotArmed;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool add(int fd, uint32_t events, IoHandler* handler);
  bool modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Runs until stop(); returns afterwards. Call from the owning thread.
  void run();
  // Thread-safe.
  void stop();
  // Thread-safe: runs fn on the loop thread soon.
  void post(std::function<void()> fn);
  // Loop thread only: runs fn after the current batch of events.
  void defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }
  // Loop thread only: destroys `handler` after the current batch of events, when an event for it
  // may still be waiting in that batch; at once when the loop is not running.
  template <typename Handler>
  void destroyLater(Handler* handler) {
    if (running_) defer([handler] { delete handler; });
    else delete handler;
  }

  // Monotonic time cached at the start of each iteration (cheap to read on the hot path): the
  // one clock read per iteration. Timers and request timing use it.
  MonoTime now() const { return now_; }
  // Counts iterations (one per epoll_wait) while run() runs; 0 outside run(). Lets users cache
  // something per iteration (WorkerContext::wallNow()).
  uint64_t iteration() const { return iteration_; }
  bool inLoopThread() const;

 private:
  friend class Timer;
  void heapPush(Timer* timer);
  void heapRemove(Timer* timer);
  void heapSiftUp(size_t index);
  void heapSiftDown(size_t index);
  void heapSwap(size_t a, size_t b);
  int nextTimeoutMs() const;
  void runExpiredTimers();
  void runPosted();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> thread_id_{0};
  MonoTime now_{};
  uint64_t iteration_ = 0;
  std::vector<Timer*> timers_;  // binary min-heap on deadline_
  std::vector<std::function<void()>> deferred_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> posted_batch_;
  bool posted_locally_ = false;  // loop thread only: post() from the loop itself, not yet run
  bool running_ = false;         // loop thread only: inside run()
};

}  // namespace ec::net
