#pragma once
// Transport: the byte stream under a client connection. PlainTransport is the socket itself;
// a TLS stream (tls/tls_transport.h) implements the same calls over OpenSSL, so the
// connection code reads and writes bytes without knowing whether they are encrypted.
// docs/design/transport_seam.md says why the seam sits here.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "net/event_loop.h"
#include "net/socket.h"

namespace ec::net {

struct IoResult {
  enum class Kind : uint8_t {
    kBytes,    // `bytes` were read or written (> 0)
    kBlocked,  // nothing now: wait for the socket (see Transport::waitsForWritable/Readable)
    kEof,      // the peer closed its sending side cleanly
    kError,    // the stream is broken: close
  };
  Kind kind = Kind::kBlocked;
  size_t bytes = 0;
  static IoResult of(size_t n) { return {Kind::kBytes, n}; }
  static IoResult blocked() { return {Kind::kBlocked, 0}; }
  static IoResult eof() { return {Kind::kEof, 0}; }
  static IoResult error() { return {Kind::kError, 0}; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Reads up to `capacity` bytes.
  virtual IoResult read(char* buffer, size_t capacity) = 0;
  // Writes from `count` buffers, as much as the stream takes now. `more`: further bytes follow
  // at once (MSG_MORE on a socket).
  virtual IoResult writev(const iovec* iov, int count, bool more = false) = 0;
  // After a blocked read: true when the read waits for the socket to become writable (a TLS
  // handshake message to send), so the owner must ask for EPOLLOUT too.
  virtual bool readWaitsForWritable() const { return false; }
  // After a blocked write: true when the write waits for input (a TLS handshake not done).
  virtual bool writeWaitsForReadable() const { return false; }
  // Bytes already decrypted and waiting (no socket event will announce them).
  virtual bool hasBufferedInput() const { return false; }
  // Best-effort orderly close of the stream (TLS close_notify); the fd is shut by its owner.
  virtual void shutdown() {}
  virtual bool secure() const { return false; }
  // The socket, when bytes written to it directly reach the peer unchanged (splice); -1 else.
  virtual int rawFd() const { return -1; }
};

// Ends a connection's socket: leaves the loop, closes the stream in order (TLS close_notify),
// shuts both directions and closes the fd. Shared by every downstream connection type.
void closeStream(EventLoop& loop, Transport& transport, UniqueFd& fd);

// The socket itself: recv and sendmsg (MSG_NOSIGNAL).
class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  IoResult read(char* buffer, size_t capacity) override;
  IoResult writev(const iovec* iov, int count, bool more = false) override;
  int rawFd() const override { return fd_; }

 private:
  int fd_;
};

}  // namespace ec::net
