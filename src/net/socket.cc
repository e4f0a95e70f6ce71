#include "net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace ec::net {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

std::string SocketAddress::hostString() const {
  char text[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text, sizeof text);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text, sizeof text);
  }
  return text;
}

std::string SocketAddress::toString() const {
  std::string host = hostString();
  if (family() == AF_INET6) host = "[" + host + "]";
  return host + ":" + std::to_string(port());
}

Result<SocketAddress> parseSocketAddress(std::string_view text) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail(Error::internal(ErrorKind::kInvalidArgument,
                                  "'" + std::string(text) + "' is not [ipv6]:port"));
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return fail(Error::internal(ErrorKind::kInvalidArgument,
                                  "'" + std::string(text) + "' has no port (expected host:port)"));
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto port = parseDecimal(port_text);
  if (!port || *port > 65535) {
    return fail(Error::internal(ErrorKind::kInvalidArgument,
                                "'" + std::string(port_text) + "' is not a port number"));
  }
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  const std::string host_str(host);
  SocketAddress address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, host_str.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(*port));
    address.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host_str.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(*port));
    address.length = sizeof(sockaddr_in6);
  } else {
    return fail(Error::internal(ErrorKind::kInvalidArgument,
                                "'" + host_str + "' is not a numeric IP address or localhost"));
  }
  return address;
}

Result<UniqueFd> listenOn(const SocketAddress& address, bool reuse_port, int backlog) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail(Error::internal(ErrorKind::kIo, std::string("socket: ") + strerror(errno)));
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd.get(), address.get(), address.length) != 0) {
    return fail(Error::internal(ErrorKind::kIo,
                                "bind " + address.toString() + ": " + strerror(errno)));
  }
  if (::listen(fd.get(), backlog) != 0) {
    return fail(Error::internal(ErrorKind::kIo,
                                "listen " + address.toString() + ": " + strerror(errno)));
  }
  return fd;
}

Result<UniqueFd> startConnect(const SocketAddress& address) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail(Error::upstream(ErrorKind::kIo, std::string("socket: ") + strerror(errno)));
  const int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), address.get(), address.length) != 0 && errno != EINPROGRESS) {
    const ErrorKind kind = errno == ECONNREFUSED ? ErrorKind::kConnectionRefused : ErrorKind::kIo;
    return fail(Error::upstream(kind, "connect " + address.toString() + ": " + strerror(errno), true));
  }
  return fd;
}

int connectError(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

SocketAddress localAddress(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address.storage), &address.length);
  return address;
}

SocketAddress peerAddress(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  getpeername(fd, reinterpret_cast<sockaddr*>(&address.storage), &address.length);
  return address;
}

}  // namespace ec::net
