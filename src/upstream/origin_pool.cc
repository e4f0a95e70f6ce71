#include "upstream/origin_pool.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "upstream/origin_exchange.h"

namespace ec::upstream {
namespace {
// An idle keep-alive connection is usable only if the origin has neither closed it nor sent
// anything unsolicited; a peek answers both without a syscall per event-loop round.
bool stillUsable(int fd) {
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
}  // namespace

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
    if (now - idle.since < settings_.idle_timeout && stillUsable(idle.connection.fd.get())) {
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
  exchange->connectionReady(std::move(connection), /*reused=*/false);
  return true;
}

void OriginPool::cancel(OriginExchange* exchange) {
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), exchange), waiting_.end());
}

void OriginPool::release(OriginConnection connection, bool reusable) {
  if (reusable && connection) {
    if (!waiting_.empty()) {
      OriginExchange* next = waiting_.front();
      waiting_.pop_front();
      stats_.reused.fetch_add(1, std::memory_order_relaxed);
      next->connectionReady(std::move(connection), /*reused=*/true);
      return;
    }
    idle_.push_back(Idle{std::move(connection), loop_.now()});
    return;
  }
  connection.reset();
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
