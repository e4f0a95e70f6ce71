#pragma once
// Worker: one thread, one event loop, its own SO_REUSEPORT listening sockets (the kernel
// spreads new connections across workers) and the client connections it accepted. Nothing
// here is shared with other workers except through proxy::SharedState.

#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/event_loop.h"
#include "net/socket.h"
#include "proxy/client_connection.h"
#include "proxy/h2_connection.h"
#include "proxy/worker_context.h"
#include "tls/server_context.h"

namespace ec::server {

// One listening address and, for a TLS listener, where its current TLS context is.
struct ListenerSpec {
  net::SocketAddress address;
  std::shared_ptr<tls::ContextSlot> tls;  // nullptr: plain HTTP
};

class Worker {
 public:
  Worker(proxy::SharedState& shared, int index);
  ~Worker();

  // Binds this worker's listeners (before the thread starts, so bind errors surface early).
  Status listen(const std::vector<ListenerSpec>& listeners);
  void start();
  // From any thread: stop accepting and close idle connections; busy ones close after their
  // current response.
  void beginDrain();
  // From any thread: stop the loop (drained or out of time) and join.
  void stopAndJoin();
  int64_t openConnections() const { return open_.load(std::memory_order_relaxed); }

 private:
  class Acceptor;
  void accept(int listen_fd, const tls::ContextSlot* tls);
  void onClosed(proxy::ClientConnection* connection);
  void upgradeToH2(proxy::ClientConnection* connection);
  void onH2Closed(proxy::H2Connection* connection);

  proxy::SharedState& shared_;
  int index_;
  net::EventLoop loop_;
  proxy::WorkerContext context_;
  std::vector<net::UniqueFd> listeners_;
  std::vector<std::shared_ptr<tls::ContextSlot>> listener_tls_;  // parallel to listeners_
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unordered_map<proxy::ClientConnection*, std::unique_ptr<proxy::ClientConnection>> connections_;
  std::unordered_map<proxy::H2Connection*, std::unique_ptr<proxy::H2Connection>> h2_connections_;
  std::atomic<int64_t> open_{0};
  std::thread thread_;
  bool draining_ = false;
};

}  // namespace ec::server
