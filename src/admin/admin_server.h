#pragma once
// AdminServer: the admin HTTP listener on its own thread and loop, apart from the data path
// so a slow scrape never delays a client. Routes are registered by the server wiring
// (/healthz, /metrics, and /debug/clock/advance under --test-clock). Requests from addresses
// outside the access list get 403; unknown paths 404; one request per connection.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>

#include "admin/access_list.h"
#include "http/message.h"
#include "net/event_loop.h"
#include "net/socket.h"

namespace ec::admin {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct AdminRequest {
  http::Method method;
  std::string path;   // without the query
  std::string query;  // after '?', raw
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  AdminServer(AccessList access, net::SocketAddress address);
  ~AdminServer();

  void route(std::string path, Handler handler);
  Status start();  // binds and starts the thread
  void stop();
  uint16_t port() const { return port_; }
  uint64_t deniedTotal() const { return denied_.load(std::memory_order_relaxed); }

 private:
  class Connection;
  void onAccept();
  AdminResponse dispatch(const AdminRequest& request, const net::SocketAddress& peer);

  AccessList access_;
  net::SocketAddress address_;
  net::UniqueFd listen_fd_;
  uint16_t port_ = 0;
  net::EventLoop loop_;
  std::thread thread_;
  std::map<std::string, Handler> routes_;
  std::unordered_set<Connection*> connections_;
  std::unique_ptr<net::IoHandler> acceptor_;
  std::atomic<uint64_t> denied_{0};
};

}  // namespace ec::admin
