#pragma once
// SplicePipe: sends user memory to a socket without copying it. vmsplice() puts references to
// the memory's pages into a pipe and splice() moves those references into the socket's send
// queue, so a large cached body costs page bookkeeping instead of a copy per byte
// (docs/design/large-object-send.md has the measurements). Only memory that is never rewritten
// or reused while the kernel may still reference it can go in: storage::Body's page-mapped
// chunks. SplicePipePool keeps one worker's idle, empty pipes for reuse (a pipe is two fds).

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "base/result.h"
#include "net/socket.h"

namespace ec::net {

class SplicePipe {
 public:
  // The pipe is enlarged to this (fewer syscalls per large body) when the kernel allows it.
  static constexpr size_t kPreferredCapacity = 1u << 20;

  static Result<std::unique_ptr<SplicePipe>> open();

  // Bytes referenced by the pipe and not yet moved to a socket.
  size_t buffered() const { return buffered_; }
  // vmsplice: references up to the pipe's free room of `iov`. Returns the bytes taken (0 when
  // the pipe is full). An error means the caller should copy instead (nothing was taken).
  Result<size_t> load(const iovec* iov, int count);
  // splice to `socket_fd`: returns the bytes moved (0 when the socket's buffer is full).
  // `more`: more bytes follow at once (lets TCP fill whole segments). Errors: the peer is gone.
  // splice() has no MSG_NOSIGNAL: the process must ignore SIGPIPE (the server does).
  Result<size_t> drainTo(int socket_fd, bool more);

 private:
  SplicePipe(UniqueFd read_end, UniqueFd write_end)
      : read_end_(std::move(read_end)), write_end_(std::move(write_end)) {}

  UniqueFd read_end_;
  UniqueFd write_end_;
  size_t buffered_ = 0;
};

// One per worker (loop thread only). Bounded: at most max_idle empty pipes are kept.
class SplicePipePool {
 public:
  explicit SplicePipePool(size_t max_idle = 64) : max_idle_(max_idle) {}

  // An empty pipe, or nullptr when none can be made (fd limit): the caller copies instead.
  std::unique_ptr<SplicePipe> acquire();
  // Keeps the pipe for reuse if it is empty and there is room; otherwise closes it (closing
  // drops whatever references it still held).
  void release(std::unique_ptr<SplicePipe> pipe);

  size_t idle() const { return idle_.size(); }
  uint64_t openFailures() const { return open_failures_; }

 private:
  size_t max_idle_;
  std::vector<std::unique_ptr<SplicePipe>> idle_;
  uint64_t open_failures_ = 0;
};

}  // namespace ec::net
