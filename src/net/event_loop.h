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
#include <queue>
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

// A one-shot timer owned by its user; cancelled automatically when destroyed.
class Timer {
 public:
  Timer() = default;
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void arm(EventLoop& loop, MonoTime deadline, std::function<void()> callback);
  void cancel() { ++generation_; armed_ = false; }
  bool armed() const { return armed_; }

 private:
  friend class EventLoop;
  std::function<void()> callback_;
  uint64_t generation_ = 0;
  bool armed_ = false;
  // Lifetime guard: the loop's heap refers to timers by a shared flag, not by pointer alone.
  std::shared_ptr<Timer*> self_ = std::make_shared<Timer*>(this);
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

  // Monotonic time cached at the start of each iteration (cheap to read on the hot path).
  MonoTime now() const { return now_; }
  bool inLoopThread() const;

 private:
  friend class Timer;
  struct TimerEntry {
    MonoTime deadline;
    uint64_t generation;
    std::weak_ptr<Timer*> timer;
    bool operator>(const TimerEntry& other) const { return deadline > other.deadline; }
  };
  void scheduleTimer(Timer& timer, MonoTime deadline);
  int nextTimeoutMs() const;
  void runExpiredTimers();
  void runPosted();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> thread_id_{0};
  MonoTime now_{};
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  std::vector<std::function<void()>> deferred_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> posted_batch_;
};

}  // namespace ec::net
