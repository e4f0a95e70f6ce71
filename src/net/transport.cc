#include "net/transport.h"

#include <sys/socket.h>

#include <cerrno>

namespace ec::net {

IoResult PlainTransport::read(char* buffer, size_t capacity) {
  while (true) {
    const ssize_t n = ::recv(fd_, buffer, capacity, 0);
    if (n > 0) return IoResult::of(static_cast<size_t>(n));
    if (n == 0) return IoResult::eof();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::blocked();
    return IoResult::error();
  }
}

IoResult PlainTransport::writev(const iovec* iov, int count, bool more) {
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  if (count == 1) {
    // One buffer (most small responses): send() skips the kernel's iovec import.
    while (true) {
      const ssize_t n = ::send(fd_, iov[0].iov_base, iov[0].iov_len, flags);
      if (n >= 0) return IoResult::of(static_cast<size_t>(n));
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::blocked();
      return IoResult::error();
    }
  }
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = static_cast<size_t>(count);
  while (true) {
    const ssize_t n = ::sendmsg(fd_, &message, flags);
    if (n >= 0) return IoResult::of(static_cast<size_t>(n));
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::blocked();
    return IoResult::error();
  }
}

void closeStream(EventLoop& loop, Transport& transport, UniqueFd& fd) {
  loop.remove(fd.get());
  transport.shutdown();
  ::shutdown(fd.get(), SHUT_RDWR);
  fd.reset();
}

}  // namespace ec::net
