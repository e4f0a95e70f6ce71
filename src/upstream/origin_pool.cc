#include "upstream/origin_pool.h"

#include <sys/epoll.h>

#include <algorithm>

#include "upstream/origin_exchange.h"

namespace ec::upstream {

bool ConnectionWatch::watch(uint32_t events) {
  events_ = events;
  return pool_.loop().add(fd_, events, this);
}

void ConnectionWatch::setEvents(uint32_t events) {
  if (events == events_) return;
  events_ = events;
  pool_.loop().modify(fd_, events, this);
}

void ConnectionWatch::onIo(uint32_t events) {
  if (retired_) return;
  if (owner_ != nullptr) owner_->onIo(events);
  else pool_.onIdleEvent(this);  // may destroy this watch (after this round)
}

void RetireWatch::operator()(ConnectionWatch* watch) const {
  watch->retire();
  watch->pool().loop().destroyLater(watch);
}

void OriginSettings::makePoolKey() {
  pool_key = label + "|" + std::to_string(connect_timeout.count()) + "|" +
             std::to_string(first_byte_timeout.count()) + "|" +
             std::to_string(between_bytes_timeout.count()) + "|" + std::to_string(max_connections);
  if (tls) pool_key += "|" + tls->identity();
}

OriginPool::OriginPool(net::EventLoop& loop, OriginSettings settings, OriginStats& stats)
    : loop_(loop), settings_(std::move(settings)), stats_(stats) {}

OriginPool::~OriginPool() {
  stats_.open_connections.fetch_sub(static_cast<int64_t>(idle_.size()));
}

void OriginPool::acquire(OriginExchange* exchange) {
  const MonoTime now = loop_.now();
  while (!idle_.empty()) {
    Idle idle = std::move(idle_.back());
    idle_.pop_back();
    // A close or stray bytes from the origin while idle already took the connection out (its
    // watch stays registered for reading); only age is checked here.
    if (now - idle.since < settings_.idle_timeout) {
      stats_.reused.fetch_add(1, std::memory_order_relaxed);
      exchange->connectionReady(std::move(idle.connection), /*reused=*/true);
      return;
    }
    --open_;
    stats_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  if (open_ >= settings_.max_connections) {
    waiting_.push_back(exchange);
    return;
  }
  startNew(exchange);
}

bool OriginPool::startNew(OriginExchange* exchange) {
  auto fd = net::startConnect(settings_.address);
  if (!fd.ok()) {
    stats_.refused.fetch_add(1, std::memory_order_relaxed);
    exchange->fail(fd.error());
    return false;
  }
  ++open_;
  stats_.connects.fetch_add(1, std::memory_order_relaxed);
  stats_.open_connections.fetch_add(1, std::memory_order_relaxed);
  OriginConnection connection;
  connection.fd = std::move(*fd);
  connection.watch.reset(new ConnectionWatch(*this, connection.fd.get()));
  if (!connection.watch->watch(EPOLLOUT | EPOLLIN | EPOLLRDHUP)) {
    connection.reset();
    connectionClosed();
    exchange->fail(Error::upstream(ErrorKind::kIo, "cannot watch origin socket"));
    return false;
  }
  exchange->connectionReady(std::move(connection), /*reused=*/false);
  return true;
}

void OriginPool::cancel(OriginExchange* exchange) {
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), exchange), waiting_.end());
}

void OriginPool::release(OriginConnection connection, bool reusable) {
  if (reusable && connection && connection.watch) {
    connection.watch->setOwner(nullptr);
    if (!waiting_.empty()) {
      OriginExchange* next = waiting_.front();
      waiting_.pop_front();
      stats_.reused.fetch_add(1, std::memory_order_relaxed);
      next->connectionReady(std::move(connection), /*reused=*/true);
      return;
    }
    // Idle: watched for reading only, so a close by the origin is noticed (level-triggered,
    // nothing else can fire while nobody writes).
    connection.watch->setEvents(EPOLLIN | EPOLLRDHUP);
    idle_.push_back(Idle{std::move(connection), loop_.now()});
    return;
  }
  connection.reset();
  connectionClosed();
}

void OriginPool::onIdleEvent(ConnectionWatch* watch) {
  auto it = std::find_if(idle_.begin(), idle_.end(),
                         [watch](const Idle& idle) { return idle.connection.watch.get() == watch; });
  if (it == idle_.end()) return;
  stats_.closed_idle.fetch_add(1, std::memory_order_relaxed);
  idle_.erase(it);  // closes it; the watch goes after this round
  connectionClosed();
}

void OriginPool::connectionClosed() {
  --open_;
  stats_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (!waiting_.empty()) {
    // Deferred so a failing connect does not recurse into the releasing exchange; the
    // exchange stays queued (and cancellable) until the deferred start runs.
    OriginExchange* next = waiting_.front();
    loop_.defer([this, next] {
      auto it = std::find(waiting_.begin(), waiting_.end(), next);
      if (it == waiting_.end() || open_ >= settings_.max_connections) return;
      waiting_.erase(it);
      startNew(next);
    });
  }
}

}  // namespace ec::upstream
