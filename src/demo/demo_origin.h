#pragma once
// DemoOrigin: the built-in demo origin server that `make run` puts behind edgecache. It
// serves DemoSite over HTTP/1.1 keep-alive with Content-Length framing, using blocking
// sockets and one thread per connection (bounded). It is a demo, not the product: simple
// and obviously correct beats fast here.

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "base/time_source.h"
#include "demo/demo_site.h"

namespace ec::demo {

class DemoOrigin {
 public:
  static constexpr size_t kMaxConnections = 64;
  static constexpr size_t kMaxHeaderBytes = 16 * 1024;
  static constexpr size_t kMaxBodyBytes = 1024 * 1024;
  static constexpr int kIdleTimeoutSeconds = 30;

  // `address` is "IPv4:port"; port 0 picks a free port (see port()).
  explicit DemoOrigin(std::string address,
                      const TimeSource& time = SystemTimeSource::instance());
  ~DemoOrigin();
  DemoOrigin(const DemoOrigin&) = delete;
  DemoOrigin& operator=(const DemoOrigin&) = delete;

  // Binds and listens, then spawns the accept thread. Fails if the address is malformed or
  // the bind fails (e.g. the port is taken).
  Status start();
  // Stops accepting, closes every connection and joins all threads. Idempotent.
  void stop();
  // The bound port (valid after a successful start()).
  uint16_t port() const { return port_; }

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void acceptLoop();
  void serve(Connection& connection);
  void reapFinished();  // caller holds connections_mutex_

  std::string address_;
  DemoSite site_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex connections_mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace ec::demo
