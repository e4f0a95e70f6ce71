#include "server/server.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

#include "accesslog/access_log_metrics.h"
#include "accesslog/file_sink.h"
#include "accesslog/kafka_sink.h"
#include "base/log.h"
#include "base/strings.h"
#include "observe/process_metrics.h"
#include "proxy/proxy_metrics.h"
#include "purge/purge_metrics.h"
#include "server/runtime_builder.h"
#include "server/storage_metrics.h"
#include "storage/fault_points.h"
#include "tls/tls_stats.h"

namespace ec::server {
namespace {

const observe::MetricDecl kConfigGeneration{
    "edgecache_config_generation", "Generation of the running configuration (1 at start, +1 per reload).",
    observe::MetricDecl::Type::kGauge, {}, {}, ""};
const observe::MetricDecl kReloads{"edgecache_config_reloads_total",
                                   "Configuration reloads (SIGHUP), by outcome.",
                                   observe::MetricDecl::Type::kCounter, {"outcome"}, {}, ""};
const observe::MetricDecl kAdminDenied{"edgecache_admin_denied_total",
                                       "Admin requests refused by admin.allow.",
                                       observe::MetricDecl::Type::kCounter, {}, {}, ""};
const observe::MetricDecl kDraining{"edgecache_draining", "1 while the node drains (SIGTERM), else 0.",
                                    observe::MetricDecl::Type::kGauge, {}, {}, ""};
const observe::MetricDecl kLogMessages{
    "edgecache_log_messages_total",
    "Diagnostic log lines (stderr) by level, and lines suppressed by the per-call-site rate limit.",
    observe::MetricDecl::Type::kCounter, {"level"}, {}, ""};
const observe::MetricDecl kStapleAge{
    "edgecache_tls_ocsp_staple_age_seconds",
    "Age of the OCSP staple served with each certificate (now minus its thisUpdate), from the "
    "`<cert>.ocsp` file beside it; absent for certificates without a staple.",
    observe::MetricDecl::Type::kGauge, {"certificate"}, {}, "seconds"};
const observe::MetricDecl kBugs{"edgecache_internal_bugs_total",
                                "Broken internal invariants reported (EC_BUG); should stay 0.",
                                observe::MetricDecl::Type::kCounter, {}, {}, ""};

void printErrors(const std::vector<config::ConfigError>& errors) {
  for (const config::ConfigError& error : errors) {
    std::fprintf(stderr, "%s\n", config::formatError(error).c_str());
  }
}

}  // namespace

const std::vector<const observe::MetricDecl*>& metricDecls() {
  static const std::vector<const observe::MetricDecl*> decls = [] {
    std::vector<const observe::MetricDecl*> all = {&kConfigGeneration, &kReloads, &kAdminDenied,
                                                   &kDraining, &kBugs, &kLogMessages,
                                                   &kStapleAge};
    for (const auto* decl : storageMetricDecls()) all.push_back(decl);
    return all;
  }();
  return decls;
}

config::LoadResult loadFromCli(const CliOptions& options) {
  return config::loadWithOverrides(options.config_path, options.overrides);
}

Server::Server(CliOptions options) : options_(std::move(options)) {}

Server::~Server() {
  if (htcp_) htcp_->stop();
  if (kafka_purge_) kafka_purge_->stop();
  for (auto& worker : workers_) worker->stopAndJoin();
  if (access_log_) access_log_->stop();
  if (admin_) admin_->stop();
  if (demo_) demo_->stop();
  // The disk tier flushes what is complete and syncs; its last reads post to loops that still
  // exist (stopped), so it goes before the workers do.
  if (shared_) shared_->setTiered(nullptr);
  tiered_ = nullptr;
  store_.reset();
}

Status Server::startAccessLog(const config::AccessLogConfig& config) {
  if (!config.enabled) return {};
  std::vector<std::unique_ptr<accesslog::Sink>> sinks;
  if (!config.path.empty()) {
    auto file = accesslog::FileSink::open(config.path);
    if (!file.ok()) return fail(file.error());
    sinks.push_back(std::move(*file));
  }
  if (!config.kafka_brokers.empty()) {
    accesslog::KafkaSinkOptions kafka;
    kafka.brokers = config.kafka_brokers;
    kafka.topic = config.kafka_topic;
    kafka.properties = config.kafka_properties;
    auto sink = accesslog::KafkaSink::create(kafka);
    if (!sink.ok()) return fail(sink.error());
    sinks.push_back(std::move(*sink));
    EC_LOG_INFO("access log to kafka %s, topic %s", config.kafka_brokers.c_str(),
                config.kafka_topic.c_str());
  }
  if (sinks.empty()) return {};
  accesslog::AccessLogOptions options;
  options.queue_bytes = config.queue_size;
  options.flush_interval = Millis{config.flush_interval_ms};
  options.log_purges = config.log_purges;
  access_log_ = std::make_unique<accesslog::AccessLog>(options, std::move(sinks));
  access_log_->start();
  if (!config.path.empty()) {
    EC_LOG_INFO("access log to %s", config.path == "-" ? "stdout" : config.path.c_str());
  }
  return {};
}

Status Server::start(const config::Config& config) {
  auto runtime = buildRuntimeConfig(config, generation_, &service_metrics_);
  if (!runtime.ok()) return fail(runtime.error());
  if (auto logging = startAccessLog(config.access_log); !logging.ok()) return logging;

  if (config.demo.enabled) {
    demo_ = std::make_unique<demo::DemoOrigin>(config.demo.address, clock_);
    if (auto started = demo_->start(); !started.ok()) return started;
    EC_LOG_INFO("demo origin listening on %s", config.demo.address.c_str());
  }

  storage::MemoryStoreOptions store_options;
  store_options.capacity_bytes = config.cache.memory_size;
  store_options.shards = config.cache.shards;
  store_options.max_object_bytes = config.cache.max_object_size;
  store_options.policy = config.cache.eviction == "lru" ? storage::MemoryStoreOptions::Policy::kLru
                                                        : storage::MemoryStoreOptions::Policy::kS3Fifo;
  auto memory = std::make_unique<storage::MemoryStore>(store_options);
  if (const char* fifo = std::getenv("EDGECACHE_FAULT_FIFO"); fifo && *fifo) {
    // Tests only: the disk tier's libfiu fault points, switched on from outside (fiu-ctrl).
    std::string error;
    if (storage::enableFaultControl(fifo, &error)) {
      EC_LOG_WARN("fault injection enabled (control fifo %s-%d)", fifo, static_cast<int>(::getpid()));
    } else {
      EC_LOG_WARN("EDGECACHE_FAULT_FIFO ignored: %s", error.c_str());
    }
  }
  if (config.cache.disk.empty()) {
    store_ = std::move(memory);
  } else {
    std::vector<std::unique_ptr<storage::DiskStore>> disks;
    for (const config::DiskConfig& disk : config.cache.disk) {
      storage::DiskStoreOptions options;
      options.path = disk.path;
      options.size_bytes = disk.size;
      options.max_object_bytes = config.cache.disk_max_object_size;
      options.sync_interval_ms = config.cache.disk_sync_interval_ms;
      options.zero_copy = config.cache.disk_zero_copy;
      options.checkpoint_path = disk.checkpoint;
      options.checkpoint_interval_ms = config.cache.disk_checkpoint_interval_ms;
      options.clock = &clock_;
      disks.push_back(storage::DiskStore::open(options));
      if (!disks.back()->up()) {
        EC_LOG_ERROR("disk store %s is down: %s", disk.path.c_str(),
                     disks.back()->failureReason().c_str());
      }
    }
    storage::TieredStoreOptions tiered_options;
    tiered_options.admission = config.cache.memory_admission == "all"
                                   ? storage::TieredStoreOptions::Admission::kAll
                                   : storage::TieredStoreOptions::Admission::kExponential;
    tiered_options.admission_scale_bytes = static_cast<double>(config.cache.memory_admission_scale);
    auto tiered = std::make_unique<storage::TieredStore>(std::move(memory), std::move(disks),
                                                         tiered_options);
    tiered_ = tiered.get();
    store_ = std::move(tiered);
  }
  shared_ = std::make_unique<proxy::SharedState>(*store_, clock_, *runtime);
  shared_->setTiered(tiered_);
  auto purge_settings = purge::PurgeSettings::build(config.purge.allow, config.purge.host_regex);
  if (!purge_settings.ok()) return fail(purge_settings.error());
  proxy::Coalescer& coalescer = shared_->coalescer();
  purger_ = std::make_unique<purge::Purger>(
      *store_,
      [&coalescer](const std::string& key, purge::Purger::FencePhase phase) {
        if (phase == purge::Purger::FencePhase::kBegin) coalescer.fence(key);
        else coalescer.fenceDone(key);
      },
      *purge_settings);
  shared_->setPurger(purger_.get());
  shared_->setAccessLog(access_log_.get());

  std::vector<ListenerSpec> listeners;
  for (const config::ListenerConfig& listener : config.listeners) {
    auto address = net::parseSocketAddress(listener.address);
    if (!address.ok()) return fail(address.error());
    ListenerSpec spec{*address, nullptr};
    if (listener.tls.enabled()) {
      auto context = tls::ServerContext::create(listener.tls, tls_stats_);
      if (!context.ok()) {
        return fail(Error::internal(context.error().kind,
                                    "listener " + listener.address + ": " + context.error().context));
      }
      spec.tls = std::make_shared<tls::ContextSlot>(std::move(*context));
    }
    tls_slots_.push_back(spec.tls);
    listeners.push_back(std::move(spec));
  }
  uint32_t worker_count = config.workers;
  if (worker_count == 0) worker_count = std::max(1u, std::thread::hardware_concurrency());
  for (uint32_t i = 0; i < worker_count; ++i) {
    auto worker = std::make_unique<Worker>(*shared_, static_cast<int>(i));
    if (auto listening = worker->listen(listeners); !listening.ok()) return listening;
    workers_.push_back(std::move(worker));
  }

  auto admin_address = net::parseSocketAddress(config.admin.address);
  if (!admin_address.ok()) return fail(admin_address.error());
  auto access = admin::AccessList::parse(config.admin.allow);
  if (!access.ok()) return fail(access.error());
  admin_ = std::make_unique<admin::AdminServer>(std::move(*access), *admin_address);
  registerMetrics();
  registerAdminRoutes(*admin_);
  if (auto started = admin_->start(); !started.ok()) return started;

  for (auto& worker : workers_) worker->start();
  if (auto purging = startPurgeChannels(config); !purging.ok()) return purging;
  for (const config::ListenerConfig& listener : config.listeners) {
    EC_LOG_INFO("listening on %s%s (%u workers), node %s", listener.address.c_str(),
                listener.tls.enabled() ? " (TLS)" : "", worker_count, (*runtime)->node_name.c_str());
  }
  EC_LOG_INFO("admin on %s: /healthz /metrics", config.admin.address.c_str());
  return {};
}

Status Server::startPurgeChannels(const config::Config& config) {
  const config::HtcpConfig& htcp = config.purge.htcp;
  if (!htcp.address.empty()) {
    purge::HtcpListenerOptions options;
    options.address = htcp.address;
    options.groups = htcp.groups;
    options.interface = htcp.interface;
    auto allow = admin::AccessList::parse(htcp.allow);
    if (!allow.ok()) return fail(allow.error());
    auto sequential = admin::AccessList::parse(htcp.sequential_sources);
    if (!sequential.ok()) return fail(sequential.error());
    options.allow = std::move(*allow);
    options.sequential = std::move(*sequential);
    htcp_ = std::make_unique<purge::HtcpListener>(*purger_, std::move(options));
    if (auto started = htcp_->start(); !started.ok()) return started;
    EC_LOG_INFO("htcp purges on %s (port %u), %zu multicast group(s)", htcp.address.c_str(),
                static_cast<unsigned>(htcp_->port()), htcp.groups.size());
  }
  const config::KafkaPurgeConfig& kafka = config.purge.kafka;
  if (!kafka.brokers.empty()) {
    purge::KafkaPurgeOptions options;
    options.brokers = kafka.brokers;
    options.topics = kafka.topics;
    options.group_id = kafka.group_id.empty() ? shared_->config()->node_name : kafka.group_id;
    options.max_age_s = kafka.max_age_s;
    options.properties = kafka.properties;
    kafka_purge_ = std::make_unique<purge::KafkaPurgeConsumer>(*purger_, clock_, options);
    if (auto started = kafka_purge_->start(); !started.ok()) return started;
    EC_LOG_INFO("kafka purges from %s, group %s, %zu topic(s)", kafka.brokers.c_str(),
                options.group_id.c_str(), kafka.topics.size());
  }
  return {};
}

void Server::registerMetrics() {
  proxy::registerMetrics(registry_, *shared_);
  tls::registerMetrics(registry_, tls_stats_);
  // Staple ages: a series per certificate that has (or gets, after a reload) a staple.
  auto stapled = std::make_shared<std::set<std::string>>();
  registry_.addCollector([this, stapled](observe::Registry& registry) {
    for (const auto& slot : tls_slots_) {
      if (!slot) continue;
      for (const tls::CertificateInfo& cert : slot->get()->certificates()) {
        if (cert.staple_this_update == 0 || !stapled->insert(cert.cert_path).second) continue;
        std::shared_ptr<tls::ContextSlot> held = slot;
        const std::string path = cert.cert_path;
        registry.callback(kStapleAge, {path}, [this, held, path] {
          for (const tls::CertificateInfo& c : held->get()->certificates()) {
            if (c.cert_path == path && c.staple_this_update != 0) {
              return static_cast<double>(clock_.wallNow().time_since_epoch().count() -
                                         c.staple_this_update);
            }
          }
          return 0.0;
        });
      }
    }
  });
  if (tiered_) registerStorageMetrics(registry_, *tiered_);
  purge::registerMetrics(registry_, *purger_);
  accesslog::registerMetrics(registry_, access_log_.get());
  observe::registerProcessMetrics(registry_);
  registry_.callback(kConfigGeneration, {}, [this] {
    return static_cast<double>(generation_gauge_.load(std::memory_order_relaxed));
  });
  registry_.callback(kReloads, {"ok"}, [this] { return static_cast<double>(reloads_ok_.load()); });
  registry_.callback(kReloads, {"failed"}, [this] { return static_cast<double>(reload_failures_.load()); });
  registry_.callback(kAdminDenied, {}, [this] { return static_cast<double>(admin_->deniedTotal()); });
  registry_.callback(kDraining, {}, [this] { return shared_->draining() ? 1.0 : 0.0; });
  registry_.callback(kBugs, {}, [] { return static_cast<double>(bugCount()); });
  registry_.callback(kLogMessages, {"info"}, [] { return static_cast<double>(logMessageCount(LogLevel::kInfo)); });
  registry_.callback(kLogMessages, {"warn"}, [] { return static_cast<double>(logMessageCount(LogLevel::kWarning)); });
  registry_.callback(kLogMessages, {"error"}, [] { return static_cast<double>(logMessageCount(LogLevel::kError)); });
  registry_.callback(kLogMessages, {"suppressed"}, [] { return static_cast<double>(logSuppressedCount()); });
}

void Server::registerAdminRoutes(admin::AdminServer& admin) {
  admin.route("/healthz", [this](const admin::AdminRequest&) {
    if (shared_->draining()) return admin::AdminResponse{503, "text/plain; charset=utf-8", "draining\n"};
    std::string body = "ok\n";
    if (tiered_) {
      // Detail: the node serves even with a failed disk store (from memory and the origin).
      for (const auto& disk : tiered_->disks()) {
        body += "disk " + disk->path() + ": " + (disk->up() ? "up" : "down (" + disk->failureReason() + ")") + "\n";
      }
    }
    return admin::AdminResponse{200, "text/plain; charset=utf-8", std::move(body)};
  });
  admin.route("/metrics", [this](const admin::AdminRequest&) {
    return admin::AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                                registry_.renderPrometheus()};
  });
  if (options_.test_clock) {
    // Test-only clock control: POST /debug/clock/advance?seconds=N, /debug/clock/set?epoch=N.
    auto clockRoute = [&admin](std::string path, std::string_view key,
                               std::function<void(uint64_t)> apply) {
      admin.route(std::move(path), [key, apply](const admin::AdminRequest& request) {
        if (request.method != http::Method::kPost) {
          return admin::AdminResponse{405, "text/plain; charset=utf-8", "POST only.\n"};
        }
        const std::string prefix = std::string(key) + "=";
        std::optional<uint64_t> value;
        if (std::string_view(request.query).starts_with(prefix)) {
          value = parseDecimal(std::string_view(request.query).substr(prefix.size()));
        }
        if (!value) return admin::AdminResponse{400, "text/plain; charset=utf-8", prefix + "N\n"};
        apply(*value);
        return admin::AdminResponse{200, "text/plain; charset=utf-8", "ok\n"};
      });
    };
    clockRoute("/debug/clock/advance", "seconds",
               [this](uint64_t seconds) { clock_.advance(static_cast<int64_t>(seconds)); });
    clockRoute("/debug/clock/set", "epoch",
               [this](uint64_t epoch) { clock_.freezeAt(static_cast<int64_t>(epoch)); });
  }
}

void Server::reload() {
  config::LoadResult loaded = loadFromCli(options_);
  if (!loaded.config) {
    reload_failures_.fetch_add(1);
    EC_LOG_ERROR("reload failed, keeping generation %llu:", static_cast<unsigned long long>(generation_));
    printErrors(loaded.errors);
    return;
  }
  auto runtime = buildRuntimeConfig(*loaded.config, generation_ + 1, &service_metrics_);
  if (!runtime.ok()) {
    reload_failures_.fetch_add(1);
    EC_LOG_ERROR("reload failed, keeping generation %llu: %s",
                 static_cast<unsigned long long>(generation_), runtime.error().describe().c_str());
    return;
  }
  auto purge_settings =
      purge::PurgeSettings::build(loaded.config->purge.allow, loaded.config->purge.host_regex);
  if (!purge_settings.ok()) {
    reload_failures_.fetch_add(1);
    EC_LOG_ERROR("reload failed, keeping generation %llu: %s",
                 static_cast<unsigned long long>(generation_),
                 purge_settings.error().describe().c_str());
    return;
  }
  reloadTls(*loaded.config, "SIGHUP");
  for (const std::string& path : config::restartOnlyChanges(running_config_, *loaded.config)) {
    EC_LOG_WARN("reload: %s changed but only takes effect after a restart", path.c_str());
  }
  ++generation_;
  generation_gauge_.store(generation_);
  shared_->setConfig(*runtime);
  purger_->setSettings(*purge_settings);
  running_config_ = std::move(*loaded.config);
  reloads_ok_.fetch_add(1);
  EC_LOG_INFO("reloaded configuration, generation %llu", static_cast<unsigned long long>(generation_));
}

void Server::reloadTls(const config::Config& config, const char* why) {
  for (size_t i = 0; i < tls_slots_.size() && i < config.listeners.size(); ++i) {
    const config::ListenerConfig& listener = config.listeners[i];
    if (!tls_slots_[i] || !listener.tls.enabled()) continue;
    if (listener.address != running_config_.listeners[i].address) continue;  // restart-only
    auto context = tls::ServerContext::create(listener.tls, tls_stats_);
    if (!context.ok()) {
      tls_stats_.reloads_failed.fetch_add(1, std::memory_order_relaxed);
      EC_LOG_ERROR("TLS reload (%s) for %s failed, keeping the current certificates: %s", why,
                   listener.address.c_str(), context.error().context.c_str());
      continue;
    }
    tls_slots_[i]->set(std::move(*context));
    tls_stats_.reloads_ok.fetch_add(1, std::memory_order_relaxed);
    EC_LOG_INFO("TLS reload (%s) for %s: %zu certificates", why, listener.address.c_str(),
                listener.tls.certificates.size());
  }
  tlsFilesChanged();  // remember what was just loaded
}

bool Server::tlsFilesChanged() {
  bool changed = false;
  for (const auto& slot : tls_slots_) {
    if (!slot) continue;
    for (const std::string& path : slot->get()->sourceFiles()) {
      struct stat st {};
      std::pair<int64_t, int64_t> stamp{-1, -1};
      if (::stat(path.c_str(), &st) == 0) {
        stamp = {static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                 static_cast<int64_t>(st.st_size)};
      }
      auto [it, inserted] = tls_file_stamps_.emplace(path, stamp);
      if (!inserted && it->second != stamp) {
        it->second = stamp;
        changed = true;
      }
    }
  }
  return changed;
}

void Server::drain() {
  shared_->setDraining();
  EC_LOG_INFO("draining: no new connections, finishing in-flight requests");
  for (auto& worker : workers_) worker->beginDrain();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(running_config_.limits.drain_timeout_ms);
  auto next_report = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  int64_t open = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    open = 0;
    for (auto& worker : workers_) open += worker->openConnections();
    if (open == 0) break;
    if (std::chrono::steady_clock::now() >= next_report) {
      EC_LOG_INFO("draining: %lld connections still busy", static_cast<long long>(open));
      next_report += std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (open > 0) {
    EC_LOG_WARN("drain timeout: closing %lld connections still busy", static_cast<long long>(open));
  }
  for (auto& worker : workers_) worker->stopAndJoin();
  if (htcp_) htcp_->stop();
  if (kafka_purge_) kafka_purge_->stop();  // commits the offsets of every applied purge
  if (access_log_) access_log_->stop();  // every line of the drained requests is written
  EC_LOG_INFO("drained, exiting");
}

int Server::run() {
  // Signals are taken synchronously by this thread; block them before any thread starts so
  // workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  config::LoadResult loaded = loadFromCli(options_);
  if (!loaded.config) {
    printErrors(loaded.errors);
    return 1;
  }
  running_config_ = std::move(*loaded.config);
  if (auto started = start(running_config_); !started.ok()) {
    EC_LOG_ERROR("cannot start: %s", started.error().describe().c_str());
    return 1;
  }
  tlsFilesChanged();
  while (true) {
    // Wake every second to notice changed certificate, key or ticket-key files (an ACME
    // client or a key-rotation job rewrites them): no SIGHUP needed.
    timespec tick{1, 0};
    const int signal_number = sigtimedwait(&signals, nullptr, &tick);
    if (signal_number < 0) {
      if (!tls_slots_.empty() && tlsFilesChanged()) reloadTls(running_config_, "files changed");
      continue;
    }
    if (signal_number == SIGHUP) {
      reload();
    } else if (signal_number == SIGTERM || signal_number == SIGINT) {
      drain();
      return 0;
    } else if (signal_number == SIGUSR1) {
      // logrotate moved the file away: the writer reopens it before its next batch.
      if (access_log_) access_log_->reopen();
    }
  }
}

}  // namespace ec::server
