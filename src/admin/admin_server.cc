#include "admin/admin_server.h"

#include <sys/socket.h>

#include <cerrno>

#include "base/time_source.h"
#include "http/date.h"
#include "http/parse_limits.h"
#include "http/request_parser.h"
#include "http/serializer.h"
#include "net/buffer.h"

namespace ec::admin {

class AdminServer::Connection final : public net::IoHandler {
 public:
  Connection(AdminServer& server, net::UniqueFd fd, net::SocketAddress peer)
      : server_(server), fd_(std::move(fd)), peer_(peer), parser_(limits()) {}
  ~Connection() override { server_.loop_.remove(fd_.get()); }

  void start() {
    server_.loop_.add(fd_.get(), EPOLLIN | EPOLLRDHUP, this);
    timer_.arm(server_.loop_, server_.loop_.now() + Millis{10000}, [this] { close(); });
  }

  void onIo(uint32_t events) override {
    if (events & EPOLLOUT) {
      writeOut();
      return;
    }
    while (true) {
      char* space = input_.writeSpace(4096);
      const ssize_t n = ::recv(fd_.get(), space, input_.writableBytes(), 0);
      if (n > 0) {
        input_.commitWrite(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      close();
      return;
    }
    const auto status = parser_.parse(input_.readable(), head_);
    if (status == http::RequestParser::Status::kNeedMore) return;
    AdminResponse response;
    if (status == http::RequestParser::Status::kError) {
      response = AdminResponse{400, "text/plain; charset=utf-8", "Bad request.\n"};
    } else {
      AdminRequest request;
      request.method = head_.method;
      const std::string_view target = head_.path;
      const size_t question = target.find('?');
      request.path = std::string(target.substr(0, question));
      if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
      response = server_.dispatch(request, peer_);
    }
    std::string out;
    http::appendStatusLine(out, response.status);
    http::appendDateLine(out, SystemTimeSource::instance().wallNow());
    out += "Content-Type: " + response.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
    if (head_.method != http::Method::kHead) out += response.body;
    output_ = std::move(out);
    server_.loop_.modify(fd_.get(), EPOLLOUT, this);
    writeOut();
  }

 private:
  static const http::ParseLimits& limits() {
    static const http::ParseLimits admin_limits;
    return admin_limits;
  }
  void writeOut() {
    while (sent_ < output_.size()) {
      const ssize_t n = ::send(fd_.get(), output_.data() + sent_, output_.size() - sent_, MSG_NOSIGNAL);
      if (n > 0) {
        sent_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      break;
    }
    close();
  }
  void close() {
    server_.connections_.erase(this);
    server_.loop_.defer([self = std::shared_ptr<Connection>(this)] {});
    server_.loop_.remove(fd_.get());
    timer_.cancel();
  }

  AdminServer& server_;
  net::UniqueFd fd_;
  net::SocketAddress peer_;
  net::Buffer input_{4096};
  http::RequestParser parser_;
  http::RequestHead head_;
  std::string output_;
  size_t sent_ = 0;
  net::Timer timer_;
};

namespace {
class Acceptor final : public net::IoHandler {
 public:
  explicit Acceptor(std::function<void()> on_ready) : on_ready_(std::move(on_ready)) {}
  void onIo(uint32_t) override { on_ready_(); }

 private:
  std::function<void()> on_ready_;
};
}  // namespace

AdminServer::AdminServer(AccessList access, net::SocketAddress address)
    : access_(std::move(access)), address_(address) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::route(std::string path, Handler handler) { routes_[std::move(path)] = std::move(handler); }

Status AdminServer::start() {
  auto fd = net::listenOn(address_, /*reuse_port=*/false, 128);
  if (!fd.ok()) return fail(fd.error());
  listen_fd_ = std::move(*fd);
  port_ = net::localAddress(listen_fd_.get()).port();
  acceptor_ = std::make_unique<Acceptor>([this] { onAccept(); });
  loop_.add(listen_fd_.get(), EPOLLIN, acceptor_.get());
  thread_ = std::thread([this] { loop_.run(); });
  return {};
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  loop_.stop();
  thread_.join();
  for (Connection* connection : connections_) delete connection;
  connections_.clear();
}

void AdminServer::onAccept() {
  while (true) {
    net::SocketAddress peer;
    peer.length = sizeof peer.storage;
    const int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer.storage),
                             &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto* connection = new Connection(*this, net::UniqueFd(fd), peer);
    connections_.insert(connection);
    connection->start();
  }
}

AdminResponse AdminServer::dispatch(const AdminRequest& request, const net::SocketAddress& peer) {
  if (!access_.allows(peer)) {
    denied_.fetch_add(1, std::memory_order_relaxed);
    return AdminResponse{403, "text/plain; charset=utf-8", "Forbidden.\n"};
  }
  auto it = routes_.find(request.path);
  if (it == routes_.end()) return AdminResponse{404, "text/plain; charset=utf-8", "Not found.\n"};
  return it->second(request);
}

}  // namespace ec::admin
