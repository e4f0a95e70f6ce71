#pragma once
// Socket helpers: address parsing ("127.0.0.1:8080", "[::1]:8080", "localhost:80"),
// non-blocking listeners with SO_REUSEPORT (one per worker, the kernel spreads connections),
// non-blocking connects, and a small RAII fd.

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace ec::net {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  std::string toString() const;  // "127.0.0.1:8080" / "[::1]:8080"
  std::string hostString() const;  // "127.0.0.1" / "::1"
};

// Parses "host:port" with a numeric IPv4/IPv6 host or "localhost". No DNS on purpose: origins
// are configured by address, and a resolver on the hot path is a latency trap.
Result<SocketAddress> parseSocketAddress(std::string_view text);

// Binds a non-blocking listening socket (SO_REUSEADDR, SO_REUSEPORT when reuse_port).
Result<UniqueFd> listenOn(const SocketAddress& address, bool reuse_port, int backlog = 4096);
// Starts a non-blocking connect; the caller waits for EPOLLOUT and then checks connectError().
Result<UniqueFd> startConnect(const SocketAddress& address);
// SO_ERROR after a non-blocking connect: 0 when connected.
int connectError(int fd);
// The bound address of a socket (for port 0 listeners).
SocketAddress localAddress(int fd);
SocketAddress peerAddress(int fd);

}  // namespace ec::net
