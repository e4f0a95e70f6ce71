#pragma once
// OriginPool: the keep-alive connections of one worker to one origin. Hands a connection
// (idle and still open, or new) to each exchange, caps open connections at the configured
// maximum (later exchanges wait in FIFO order), and takes connections back after a clean
// response. A TLS origin's connections carry their TLS stream with them, so a reused one skips
// the handshake. Per worker, so no locks.

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "base/time_source.h"
#include "http/parse_limits.h"
#include "net/event_loop.h"
#include "net/socket.h"
#include "tls/client_context.h"

namespace ec::upstream {

class OriginExchange;

struct OriginSettings {
  net::SocketAddress address;
  std::string label;  // "service/address", for logs and metric labels
  // Identifies a pool: label plus every setting a pool is built with, so a reload that changes
  // a timeout gets a fresh pool while one that keeps the origin keeps its idle connections.
  // Filled by makePoolKey() when the configuration is built, not per request.
  std::string pool_key;
  void makePoolKey();
  Millis connect_timeout{3000};
  Millis first_byte_timeout{60000};
  Millis between_bytes_timeout{30000};
  uint32_t max_connections = 256;
  Millis idle_timeout{30000};
  http::ParseLimits limits;
  // Set for an origin spoken to over TLS (shared by every worker's pool).
  std::shared_ptr<tls::ClientContext> tls;
};

class OriginPool;

// The epoll registration of one origin connection, kept from connect to close. Handing the
// connection from an exchange to the idle list and back then costs no system call (no
// EPOLL_CTL_ADD and DEL per request), and an idle connection that the origin closes, or that
// receives stray bytes, is seen at once instead of by a peek before each reuse. Events go to
// whoever holds the connection: its exchange, or the pool while it is idle.
class ConnectionWatch final : public net::IoHandler {
 public:
  ConnectionWatch(OriginPool& pool, int fd) : pool_(pool), fd_(fd) {}
  // EPOLL_CTL_ADD; false if the loop refused the socket.
  bool watch(uint32_t events);
  // EPOLL_CTL_MOD, skipped when the mask is already registered.
  void setEvents(uint32_t events);
  uint32_t events() const { return events_; }
  // The exchange that now holds the connection; nullptr while it is idle in the pool.
  void setOwner(net::IoHandler* owner) { owner_ = owner; }
  // The connection is closing: events still queued in this round are dropped.
  void retire() { retired_ = true; }
  OriginPool& pool() { return pool_; }

  void onIo(uint32_t events) override;

 private:
  OriginPool& pool_;
  int fd_;
  uint32_t events_ = 0;
  net::IoHandler* owner_ = nullptr;
  bool retired_ = false;
};

// Retires a watch and destroys it after the loop's current batch of events (one may be queued).
struct RetireWatch {
  void operator()(ConnectionWatch* watch) const;
};

// One origin connection: the socket, its epoll registration and, toward a TLS origin, its TLS
// stream.
struct OriginConnection {
  net::UniqueFd fd;
  std::unique_ptr<tls::ClientStream> tls;
  std::unique_ptr<ConnectionWatch, RetireWatch> watch;  // declared last: retired before the close
  explicit operator bool() const { return static_cast<bool>(fd); }
  void reset() {
    watch.reset();
    tls.reset();
    fd.reset();
  }
};

// Counters read by the metrics collector from any thread.
struct OriginStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> reused{0};
  std::atomic<uint64_t> closed_idle{0};  // idle connections the origin closed (or wrote to)
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> resets{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> bad_responses{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> tls_verify_failures{0};     // the origin's certificate was refused
  std::atomic<uint64_t> tls_handshake_failures{0};  // any other failed handshake
  std::atomic<uint64_t> tls_handshakes_new{0};
  std::atomic<uint64_t> tls_handshakes_resumed{0};
  std::atomic<int64_t> open_connections{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
};

class OriginPool {
 public:
  OriginPool(net::EventLoop& loop, OriginSettings settings, OriginStats& stats);
  ~OriginPool();

  net::EventLoop& loop() { return loop_; }
  const OriginSettings& settings() const { return settings_; }
  OriginStats& stats() { return stats_; }

  // Gives the exchange a connection now, or queues it until one is free.
  void acquire(OriginExchange* exchange);
  // Removes a queued exchange (it was aborted before it got a connection).
  void cancel(OriginExchange* exchange);
  // Returns a connection; reusable ones go idle, others are closed.
  void release(OriginConnection connection, bool reusable);
  // An idle connection's socket reported something (the origin closed it, or sent bytes no
  // request asked for): it is closed.
  void onIdleEvent(ConnectionWatch* watch);

 private:
  struct Idle {
    OriginConnection connection;
    MonoTime since;
  };
  bool startNew(OriginExchange* exchange);
  // A connection closed: the count drops and a waiting exchange may connect.
  void connectionClosed();

  net::EventLoop& loop_;
  OriginSettings settings_;
  OriginStats& stats_;
  std::vector<Idle> idle_;
  std::deque<OriginExchange*> waiting_;
  uint32_t open_ = 0;
};

}  // namespace ec::upstream
