#include "demo/demo_origin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace ec::demo {
namespace {

constexpr int kAcceptPollMillis = 100;
constexpr size_t kSendChunk = 64 * 1024;

Error ioError(const std::string& what) {
  return Error::internal(ErrorKind::kIo, what + ": " + std::strerror(errno));
}

bool sendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads one request head and its Content-Length body from `fd`, keeping any bytes of the
// next pipelined request in `buffer`. Returns an error status to send (400/411/413/431/501)
// in `error_status`, or false when the peer closed or timed out.
struct ReadOutcome {
  bool have_request = false;
  int error_status = 0;
};

bool fill(int fd, std::string& buffer) {
  char chunk[16 * 1024];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

ReadOutcome readRequest(int fd, std::string& buffer, DemoRequest& request) {
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > DemoOrigin::kMaxHeaderBytes) return {false, 431};
    if (!fill(fd, buffer)) return {};
  }
  if (head_end > DemoOrigin::kMaxHeaderBytes) return {false, 431};
  const std::string_view head(buffer.data(), head_end);
  const size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return {false, 400};
  request = DemoRequest{};
  request.method = std::string(line.substr(0, sp1));
  request.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = line.substr(sp2 + 1);
  if ((version != "HTTP/1.1" && version != "HTTP/1.0") || request.target.empty() ||
      request.target[0] != '/') {
    return {false, 400};
  }
  request.headers.emplace_back(":version", std::string(version));
  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view field = head.substr(pos, end - pos);
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) return {false, 400};
    request.headers.emplace_back(toLower(field.substr(0, colon)),
                                 std::string(trimOws(field.substr(colon + 1))));
    pos = end + 2;
  }
  if (!request.header("transfer-encoding").empty()) return {false, 501};
  uint64_t length = 0;
  if (const std::string_view cl = request.header("content-length"); !cl.empty()) {
    auto parsed = parseDecimal(cl);
    if (!parsed) return {false, 400};
    if (*parsed > DemoOrigin::kMaxBodyBytes) return {false, 413};
    length = *parsed;
  }
  buffer.erase(0, head_end + 4);
  while (buffer.size() < length) {
    if (!fill(fd, buffer)) return {};
  }
  request.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return {true, 0};
}

bool writeResponse(int fd, const DemoRequest& request, const DemoResponse& response,
                   bool close_after) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     reasonPhrase(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  // 304 has no body and no Content-Length; HEAD announces the length it would have sent.
  if (response.status != 304) {
    head += "Content-Length: " + std::to_string(response.contentLength()) + "\r\n";
  }
  if (close_after) head += "Connection: close\r\n";
  head += "\r\n";
  const bool send_body = request.method != "HEAD" && response.status != 304;
  if (send_body && !response.generated_length) head += response.body;
  if (!sendAll(fd, head.data(), head.size())) return false;
  if (!send_body || !response.generated_length) return true;
  std::string chunk(kSendChunk, '\0');
  for (uint64_t offset = 0; offset < response.generated_length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kSendChunk, response.generated_length - offset));
    fillGeneratedBody(offset, chunk.data(), n);
    if (!sendAll(fd, chunk.data(), n)) return false;
    offset += n;
  }
  return true;
}

bool wantsClose(const DemoRequest& request) {
  const std::string connection = toLower(request.header("connection"));
  if (request.header(":version") == "HTTP/1.0") {
    return connection.find("keep-alive") == std::string::npos;
  }
  return connection.find("close") != std::string::npos;
}

}  // namespace

DemoOrigin::DemoOrigin(std::string address, const TimeSource& time)
    : address_(std::move(address)), site_(time) {}

DemoOrigin::~DemoOrigin() { stop(); }

Status DemoOrigin::start() {
  const size_t colon = address_.rfind(':');
  if (colon == std::string::npos) {
    return fail(Error::internal(ErrorKind::kInvalidArgument, "demo address needs host:port"));
  }
  const std::string host = address_.substr(0, colon);
  auto port = parseDecimal(std::string_view(address_).substr(colon + 1));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (!port || *port > 65535 || ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return fail(Error::internal(ErrorKind::kInvalidArgument, "bad demo address '" + address_ + "'"));
  }
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return fail(ioError("socket"));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    Error error = ioError("bind " + address_);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return fail(std::move(error));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  stopping_ = false;
  accept_thread_ = std::thread([this] { acceptLoop(); });
  return {};
}

void DemoOrigin::stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::lock_guard lock(connections_mutex_);
  // Wake every connection thread blocked in recv/send; each closes its own fd.
  for (auto& connection : connections_) ::shutdown(connection->fd, SHUT_RDWR);
  for (auto& connection : connections_) {
    connection->thread.join();
    ::close(connection->fd);
  }
  connections_.clear();
}

void DemoOrigin::acceptLoop() {
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    // Polling with a timeout lets stop() end the loop without racing on the fd.
    if (::poll(&pfd, 1, kAcceptPollMillis) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(connections_mutex_);
    reapFinished();
    if (connections_.size() >= kMaxConnections) {
      static constexpr char kBusy[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n"
          "Retry-After: 1\r\n\r\nbusy\n";
      sendAll(fd, kBusy, sizeof(kBusy) - 1);
      ::close(fd);
      continue;
    }
    const timeval idle{kIdleTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection* raw = connection.get();
    connections_.push_back(std::move(connection));
    raw->thread = std::thread([this, raw] { serve(*raw); });
  }
}

void DemoOrigin::reapFinished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      ::close((*it)->fd);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void DemoOrigin::serve(Connection& connection) {
  std::string buffer;
  DemoRequest request;
  while (!stopping_) {
    const ReadOutcome outcome = readRequest(connection.fd, buffer, request);
    if (outcome.error_status) {
      DemoResponse error{outcome.error_status, {{"Content-Type", "text/plain"}}, "bad request\n"};
      writeResponse(connection.fd, DemoRequest{}, error, true);
      break;
    }
    if (!outcome.have_request) break;
    const DemoResponse response = site_.handle(request);
    const bool close_after = wantsClose(request);
    if (!writeResponse(connection.fd, request, response, close_after) || close_after) break;
  }
  // The owner closes the fd after joining this thread, so stop() can never shut down a
  // number the kernel has already handed to someone else.
  ::shutdown(connection.fd, SHUT_RDWR);
  connection.done = true;
}

}  // namespace ec::demo
