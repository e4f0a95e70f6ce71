#include "net/splice_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ec::net {

Result<std::unique_ptr<SplicePipe>> SplicePipe::open() {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return fail(Error::internal(ErrorKind::kIo, std::string("pipe2: ") + strerror(errno)));
  }
  // Best effort: an unprivileged user over fs.pipe-user-pages-soft keeps the 64 KiB default,
  // which still works, with more syscalls per body.
  (void)::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kPreferredCapacity));
  return std::unique_ptr<SplicePipe>(new SplicePipe(UniqueFd(fds[0]), UniqueFd(fds[1])));
}

Result<size_t> SplicePipe::load(const iovec* iov, int count) {
  for (;;) {
    const ssize_t n = ::vmsplice(write_end_.get(), iov, static_cast<unsigned long>(count),
                                 SPLICE_F_NONBLOCK);
    if (n >= 0) {
      buffered_ += static_cast<size_t>(n);
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return size_t{0};
    return fail(Error::internal(ErrorKind::kIo, std::string("vmsplice: ") + strerror(errno)));
  }
}

Result<size_t> SplicePipe::drainTo(int socket_fd, bool more) {
  const unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (more ? SPLICE_F_MORE : 0u);
  for (;;) {
    const ssize_t n = ::splice(read_end_.get(), nullptr, socket_fd, nullptr, buffered_, flags);
    if (n >= 0) {
      buffered_ -= static_cast<size_t>(n);
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return size_t{0};
    return fail(Error::downstream(ErrorKind::kConnectionReset,
                                  std::string("splice: ") + strerror(errno)));
  }
}

std::unique_ptr<SplicePipe> SplicePipePool::acquire() {
  if (!idle_.empty()) {
    std::unique_ptr<SplicePipe> pipe = std::move(idle_.back());
    idle_.pop_back();
    return pipe;
  }
  auto opened = SplicePipe::open();
  if (!opened) {
    ++open_failures_;
    return nullptr;
  }
  return std::move(*opened);
}

void SplicePipePool::release(std::unique_ptr<SplicePipe> pipe) {
  if (pipe && pipe->buffered() == 0 && idle_.size() < max_idle_) idle_.push_back(std::move(pipe));
}

}  // namespace ec::net
