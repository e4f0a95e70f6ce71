#include "server/worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "base/log.h"
#include "tls/tls_transport.h"

namespace ec::server {

class Worker::Acceptor final : public net::IoHandler {
 public:
  Acceptor(Worker& worker, int fd, const tls::ContextSlot* tls)
      : worker_(worker), fd_(fd), tls_(tls) {}
  void onIo(uint32_t) override { worker_.accept(fd_, tls_); }
  int fd() const { return fd_; }

 private:
  Worker& worker_;
  int fd_;
  const tls::ContextSlot* tls_;
};

Worker::Worker(proxy::SharedState& shared, int index)
    : shared_(shared), index_(index), context_(shared, loop_) {}

Worker::~Worker() { stopAndJoin(); }

Status Worker::listen(const std::vector<ListenerSpec>& listeners) {
  for (const ListenerSpec& listener : listeners) {
    auto fd = net::listenOn(listener.address, /*reuse_port=*/true);
    if (!fd.ok()) return fail(fd.error());
    listeners_.push_back(std::move(*fd));
    listener_tls_.push_back(listener.tls);
  }
  return {};
}

void Worker::start() {
  for (size_t i = 0; i < listeners_.size(); ++i) {
    const net::UniqueFd& fd = listeners_[i];
    acceptors_.push_back(std::make_unique<Acceptor>(*this, fd.get(), listener_tls_[i].get()));
    loop_.add(fd.get(), EPOLLIN, acceptors_.back().get());
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), ("ec-worker-" + std::to_string(index_)).c_str());
    loop_.run();
    connections_.clear();  // on the loop thread, after it stopped
    h2_connections_.clear();
    context_.abortFetches();
  });
}

void Worker::accept(int listen_fd, const tls::ContextSlot* tls) {
  proxy::ProxyStats& stats = shared_.stats();
  for (int batch = 0; batch < 64 && !draining_; ++batch) {
    net::SocketAddress peer;
    peer.length = sizeof peer.storage;
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer.storage), &peer.length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        EC_LOG_EVERY_SECOND(LogLevel::kError, "accept: out of file descriptors");
      }
      return;
    }
    net::UniqueFd client(fd);
    const auto config = shared_.config();
    if (stats.connections_open.load(std::memory_order_relaxed) >= config->max_connections) {
      stats.connections_rejected.fetch_add(1, std::memory_order_relaxed);
      continue;  // closed by UniqueFd: the limit protects the node
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    stats.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    stats.connections_open.fetch_add(1, std::memory_order_relaxed);
    open_.fetch_add(1, std::memory_order_relaxed);
    std::unique_ptr<net::Transport> transport;
    tls::TlsTransport* tls_transport = nullptr;
    if (tls != nullptr) {
      auto secure = tls->get()->accept(fd);
      if (!secure) {
        EC_LOG_EVERY_SECOND(LogLevel::kError, "accept: cannot allocate a TLS session");
        stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
        open_.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      tls_transport = secure.get();
      transport = std::move(secure);
    } else {
      transport = std::make_unique<net::PlainTransport>(fd);
    }
    auto connection = std::make_unique<proxy::ClientConnection>(
        context_, std::move(client), std::move(transport), tls_transport, peer.hostString(),
        [this](proxy::ClientConnection* closed) { onClosed(closed); });
    proxy::ClientConnection* raw = connection.get();
    if (tls_transport != nullptr) {
      raw->setH2Handler([this](proxy::ClientConnection* c) { upgradeToH2(c); });
    }
    connections_.emplace(raw, std::move(connection));
    raw->start();
  }
}

void Worker::onClosed(proxy::ClientConnection* connection) {
  shared_.stats().connections_open.fetch_sub(1, std::memory_order_relaxed);
  open_.fetch_sub(1, std::memory_order_relaxed);
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  // Deleted after the current event: the connection is still on the stack.
  loop_.defer([doomed = std::shared_ptr<proxy::ClientConnection>(std::move(it->second))] {});
  connections_.erase(it);
}

void Worker::upgradeToH2(proxy::ClientConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  const std::string pending = connection->takeInput();
  auto* tls_transport = const_cast<tls::TlsTransport*>(connection->tls());
  auto h2 = std::make_unique<proxy::H2Connection>(
      context_, connection->releaseFd(), connection->releaseTransport(), tls_transport,
      connection->peerIp(), [this](proxy::H2Connection* closed) { onH2Closed(closed); });
  proxy::H2Connection* raw = h2.get();
  h2_connections_.emplace(raw, std::move(h2));
  // The HTTP/1.1 side is on the stack: deleted after this event; the connection stays counted.
  loop_.defer([doomed = std::shared_ptr<proxy::ClientConnection>(std::move(it->second))] {});
  connections_.erase(it);
  raw->start(pending);
}

void Worker::onH2Closed(proxy::H2Connection* connection) {
  shared_.stats().connections_open.fetch_sub(1, std::memory_order_relaxed);
  open_.fetch_sub(1, std::memory_order_relaxed);
  auto it = h2_connections_.find(connection);
  if (it == h2_connections_.end()) return;
  loop_.defer([doomed = std::shared_ptr<proxy::H2Connection>(std::move(it->second))] {});
  h2_connections_.erase(it);
}

void Worker::beginDrain() {
  loop_.post([this] {
    draining_ = true;
    for (auto& acceptor : acceptors_) loop_.remove(acceptor->fd());
    listeners_.clear();
    std::vector<proxy::ClientConnection*> all;
    all.reserve(connections_.size());
    for (auto& [raw, owned] : connections_) all.push_back(raw);
    for (proxy::ClientConnection* connection : all) connection->drain();
    std::vector<proxy::H2Connection*> all_h2;
    for (auto& [raw, owned] : h2_connections_) all_h2.push_back(raw);
    for (proxy::H2Connection* connection : all_h2) connection->drain();
  });
}

void Worker::stopAndJoin() {
  if (!thread_.joinable()) return;
  loop_.stop();
  thread_.join();
}

}  // namespace ec::server
