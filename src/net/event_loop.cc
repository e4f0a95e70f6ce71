#include "net/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <pthread.h>

#include "base/check.h"

namespace ec::net {
namespace {
uint64_t currentThreadId() { return static_cast<uint64_t>(pthread_self()); }
constexpr int kMaxEvents = 256;
}  // namespace

void Timer::arm(EventLoop& loop, MonoTime deadline, std::function<void()> callback) {
  callback_ = std::move(callback);
  if (armed() && loop_ == &loop) {
    const bool earlier = deadline < deadline_;
    deadline_ = deadline;
    if (earlier) loop.heapSiftUp(heap_index_);
    else loop.heapSiftDown(heap_index_);
    return;
  }
  cancel();
  loop_ = &loop;
  deadline_ = deadline;
  loop.heapPush(this);
}

void Timer::cancel() {
  if (armed()) loop_->heapRemove(this);
}

EventLoop::EventLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  EC_CHECK(epoll_fd_ >= 0);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  EC_CHECK(wake_fd_ >= 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr marks the wake fd
  EC_CHECK(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) == 0);
  now_ = std::chrono::steady_clock::now();
}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

bool EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

bool EventLoop::inLoopThread() const {
  return thread_id_.load(std::memory_order_relaxed) == currentThreadId();
}

void EventLoop::stop() {
  stopping_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  if (inLoopThread()) {
    // The loop is not waiting: it runs posted work after this round, and nextTimeoutMs() sees
    // the flag so the next epoll_wait does not block. No eventfd write, no wake-up round.
    posted_locally_ = true;
    return;
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::heapSwap(size_t a, size_t b) {
  std::swap(timers_[a], timers_[b]);
  timers_[a]->heap_index_ = a;
  timers_[b]->heap_index_ = b;
}

void EventLoop::heapSiftUp(size_t index) {
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    if (!(timers_[index]->deadline_ < timers_[parent]->deadline_)) break;
    heapSwap(index, parent);
    index = parent;
  }
}

void EventLoop::heapSiftDown(size_t index) {
  const size_t size = timers_.size();
  while (true) {
    const size_t left = 2 * index + 1;
    const size_t right = left + 1;
    size_t smallest = index;
    if (left < size && timers_[left]->deadline_ < timers_[smallest]->deadline_) smallest = left;
    if (right < size && timers_[right]->deadline_ < timers_[smallest]->deadline_) smallest = right;
    if (smallest == index) break;
    heapSwap(index, smallest);
    index = smallest;
  }
}

void EventLoop::heapPush(Timer* timer) {
  timer->heap_index_ = timers_.size();
  timers_.push_back(timer);
  heapSiftUp(timer->heap_index_);
}

void EventLoop::heapRemove(Timer* timer) {
  const size_t index = timer->heap_index_;
  const size_t last = timers_.size() - 1;
  if (index != last) heapSwap(index, last);
  timers_.pop_back();
  timer->heap_index_ = Timer::kNotArmed;
  if (index < timers_.size()) {
    heapSiftDown(index);
    heapSiftUp(index);
  }
}

int EventLoop::nextTimeoutMs() const {
  if (!deferred_.empty() || posted_locally_) return 0;
  if (timers_.empty()) return 1000;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(timers_.front()->deadline_ - now_);
  if (wait.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(wait.count() + 1, 1000));
}

void EventLoop::runExpiredTimers() {
  while (!timers_.empty() && timers_.front()->deadline_ <= now_) {
    Timer* timer = timers_.front();
    heapRemove(timer);
    auto callback = std::move(timer->callback_);
    callback();  // may destroy or re-arm the timer
  }
}

void EventLoop::runPosted() {
  posted_locally_ = false;  // anything posted from here on is seen by the next round
  {
    std::lock_guard lock(posted_mutex_);
    posted_batch_.swap(posted_);
  }
  for (auto& fn : posted_batch_) fn();
  posted_batch_.clear();
}

void EventLoop::run() {
  thread_id_.store(currentThreadId(), std::memory_order_relaxed);
  running_ = true;
  epoll_event events[kMaxEvents];
  while (!stopping_.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, nextTimeoutMs());
    now_ = std::chrono::steady_clock::now();
    ++iteration_;
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t count;
        while (read(wake_fd_, &count, sizeof count) > 0) {
        }
        continue;
      }
      static_cast<IoHandler*>(events[i].data.ptr)->onIo(events[i].events);
    }
    runPosted();
    runExpiredTimers();
    while (!deferred_.empty()) {
      auto batch = std::move(deferred_);
      deferred_.clear();
      for (auto& fn : batch) fn();
    }
  }
  iteration_ = 0;  // no more per-iteration caching: what runs now reads the clocks itself
  runPosted();
  // Deferred calls often own objects being retired (connections, fetches): release them here,
  // on the loop thread, rather than in the destructor.
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    for (auto& fn : batch) fn();
  }
  running_ = false;
}

}  // namespace ec::net
