#pragma once
// Server: bootstrap and lifetime. Loads the configuration, builds the store, the shared state,
// the workers, the admin listener and (when enabled) the demo origin; then waits for signals:
// SIGHUP reloads (a bad config is logged and the old one keeps serving), SIGTERM/SIGINT drain
// (stop accepting, finish in-flight responses up to the drain timeout, exit 0).

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "accesslog/access_log.h"
#include "admin/admin_server.h"
#include "base/time_source.h"
#include "config/config.h"
#include "demo/demo_origin.h"
#include "observe/registry.h"
#include "proxy/service_metrics.h"
#include "proxy/worker_context.h"
#include "purge/htcp_listener.h"
#include "purge/kafka_consumer.h"
#include "purge/purger.h"
#include "server/cli.h"
#include "server/worker.h"
#include "storage/memory_store.h"
#include "storage/tiered_store.h"
#include "tls/server_context.h"
#include "tls/tls_stats.h"

namespace ec::server {

// Wall clock with an offset that tests move forward (--test-clock), or, once a test sets it,
// a frozen clock that only moves when told (exact ages in end-to-end tests). Untouched, it is
// the system clock.
class AdjustableTimeSource final : public TimeSource {
 public:
  WallTime wallNow() const override {
    const int64_t frozen = frozen_.load(std::memory_order_relaxed);
    if (frozen != 0) return WallTime{Seconds{frozen}};
    return SystemTimeSource::instance().wallNow() + Seconds{offset_.load(std::memory_order_relaxed)};
  }
  MonoTime monoNow() const override { return SystemTimeSource::instance().monoNow(); }
  void advance(int64_t seconds) {
    if (frozen_.load() != 0) frozen_.fetch_add(seconds);
    else offset_.fetch_add(seconds);
  }
  void freezeAt(int64_t epoch_seconds) { frozen_.store(epoch_seconds); }

 private:
  std::atomic<int64_t> offset_{0};
  std::atomic<int64_t> frozen_{0};  // epoch seconds; 0 = following the system clock
};

class Server {
 public:
  explicit Server(CliOptions options);
  ~Server();
  // Runs until drained; returns the process exit code.
  int run();

 private:
  Status start(const config::Config& config);
  void reload();
  // Rebuilds each TLS listener's context from `config`; a listener whose new files fail keeps
  // its current context (logged, counted). New handshakes use the new one; established
  // connections keep theirs.
  void reloadTls(const config::Config& config, const char* why);
  // Stats the TLS source files; true when any changed since the last call.
  bool tlsFilesChanged();
  void drain();
  void registerMetrics();
  void registerAdminRoutes(admin::AdminServer& admin);
  Status startAccessLog(const config::AccessLogConfig& config);
  Status startPurgeChannels(const config::Config& config);

  CliOptions options_;
  config::Config running_config_;
  uint64_t generation_ = 1;
  AdjustableTimeSource clock_;
  std::unique_ptr<storage::Store> store_;       // the memory tier, or the tiered store
  storage::TieredStore* tiered_ = nullptr;      // store_ when a disk tier is configured
  std::unique_ptr<proxy::SharedState> shared_;
  std::unique_ptr<purge::Purger> purger_;
  std::unique_ptr<purge::HtcpListener> htcp_;
  std::unique_ptr<purge::KafkaPurgeConsumer> kafka_purge_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<demo::DemoOrigin> demo_;
  observe::Registry registry_;
  tls::TlsStats tls_stats_;
  std::vector<std::shared_ptr<tls::ContextSlot>> tls_slots_;  // per listener; nullptr if plain
  std::map<std::string, std::pair<int64_t, int64_t>> tls_file_stamps_;  // path -> (mtime ns, size)
  proxy::ServiceMetricsTable service_metrics_{registry_};
  std::unique_ptr<accesslog::AccessLog> access_log_;
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reload_failures_{0};
  std::atomic<uint64_t> generation_gauge_{1};
};

// Loads the configuration the command line asks for: the file, or the embedded default when
// there is neither a file nor an --origin; then the flags on top. Every error is returned.
config::LoadResult loadFromCli(const CliOptions& options);

// The server's own metric declarations (config generation, reloads, admin denials, draining).
const std::vector<const observe::MetricDecl*>& metricDecls();

}  // namespace ec::server
