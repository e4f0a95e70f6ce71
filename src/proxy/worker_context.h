#pragma once
// SharedState is what all workers share (the store, the coalescer, the live config, the
// counters); WorkerContext is one worker's view: its loop and its origin pools.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/time_source.h"
#include "net/event_loop.h"
#include "net/splice_pipe.h"
#include "proxy/coalescer.h"
#include "proxy/proxy_stats.h"
#include "proxy/runtime_config.h"
#include "purge/purger.h"
#include "storage/store.h"
#include "storage/tiered_store.h"
#include "upstream/origin_pool.h"

namespace ec::accesslog {
class AccessLog;
}

namespace ec::proxy {

class SharedState {
 public:
  SharedState(storage::Store& store, const TimeSource& clock, RuntimeConfigPtr config)
      : store_(store), clock_(clock), config_(std::move(config)) {}

  storage::Store& store() { return store_; }
  // The two-tier store when a disk tier is configured (lookups then go through findAsync so a
  // loop never waits on the disk); nullptr with memory only.
  storage::TieredStore* tiered() const { return tiered_; }
  void setTiered(storage::TieredStore* tiered) { tiered_ = tiered; }
  // The memory tier alone (for its metrics): the store itself when there is no disk tier.
  storage::Store& memoryTier();
  const TimeSource& clock() const { return clock_; }
  Coalescer& coalescer() { return coalescer_; }
  ProxyStats& stats() { return stats_; }
  // The purge dispatcher (HTTP PURGE goes through it); nullptr: PURGE answers 405.
  purge::Purger* purger() const { return purger_; }
  void setPurger(purge::Purger* purger) { purger_ = purger; }

  RuntimeConfigPtr config() const { return std::atomic_load(&config_); }
  void setConfig(RuntimeConfigPtr config) {
    std::atomic_store(&config_, std::move(config));
    config_generation_.fetch_add(1, std::memory_order_release);
  }
  // Bumped by every setConfig(). A connection compares it per request and calls config() only
  // when it moved: std::atomic_load of a shared_ptr takes a lock (one per address, so every
  // worker would queue on the same one) and two reference-count updates.
  uint64_t configGeneration() const { return config_generation_.load(std::memory_order_acquire); }
  // The newest config, reloading `cached` only when the generation moved.
  void refreshConfig(RuntimeConfigPtr& cached, uint64_t& cached_generation) const {
    const uint64_t generation = configGeneration();
    if (generation == cached_generation && cached) return;
    cached = config();  // at least as new as `generation` (stored before the bump)
    cached_generation = generation;
  }

  // The access log, or null when it is off; set before the workers start.
  accesslog::AccessLog* accessLog() const { return access_log_; }
  void setAccessLog(accesslog::AccessLog* log) { access_log_ = log; }

  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  void setDraining() { draining_.store(true); }

  // Origin counters by label ("service/address"), created on first use, never removed.
  upstream::OriginStats& originStats(const std::string& label);
  template <typename Fn>
  void forEachOrigin(Fn&& fn) {
    std::lock_guard lock(origin_mutex_);
    for (auto& [label, stats] : origin_stats_) fn(label, *stats);
  }

 private:
  storage::Store& store_;
  storage::TieredStore* tiered_ = nullptr;
  const TimeSource& clock_;
  RuntimeConfigPtr config_;
  std::atomic<uint64_t> config_generation_{0};
  Coalescer coalescer_;
  ProxyStats stats_;
  purge::Purger* purger_ = nullptr;
  std::atomic<bool> draining_{false};
  accesslog::AccessLog* access_log_ = nullptr;
  std::mutex origin_mutex_;
  std::map<std::string, std::unique_ptr<upstream::OriginStats>> origin_stats_;
};

class Fetch;

class WorkerContext {
 public:
  WorkerContext(SharedState& shared, net::EventLoop& loop) : shared_(shared), loop_(loop) {}
  SharedState& shared() { return shared_; }
  net::EventLoop& loop() { return loop_; }
  // Clock reads on the request path, at most one system clock read per loop iteration
  // (docs/design/event-loop.md, "One clock read per iteration"). monoNow() is the loop's cached
  // time; wallNow() is the shared clock (adjustable in tests) read by the first caller in an
  // iteration and reused by the rest. Outside the loop (not running) both read fresh.
  MonoTime monoNow() const { return loop_.iteration() != 0 ? loop_.now() : shared_.clock().monoNow(); }
  WallTime wallNow() {
    const uint64_t iteration = loop_.iteration();
    if (iteration == 0) return shared_.clock().wallNow();
    if (iteration != wall_iteration_) {
      wall_now_ = shared_.clock().wallNow();
      wall_iteration_ = iteration;
    }
    return wall_now_;
  }
  // The last host routed on this worker. Keep-alive connections repeat their Host, so its
  // route and the normalised "scheme://host[:port]" that starts its cache keys are reused
  // while the config, the scheme and the authority bytes stay the same (loop thread only).
  struct HostMemo {
    RuntimeConfigPtr config;  // held, so that its address is not reused while remembered
    std::string scheme;
    std::string authority;    // as the request spelled it
    const ServiceRoute* service = nullptr;
    std::string key_origin;
  };
  // The memo for (config, scheme, authority), refreshed when any of them differs.
  const HostMemo& routeHost(const RuntimeConfigPtr& config, std::string_view scheme,
                            std::string_view authority);
  // Cache-key buffers of finished transactions, cleared with their capacity kept: a request
  // builds its key without allocating (loop thread only).
  std::string takeKeyBuffer() {
    if (spare_keys_.empty()) return {};
    std::string key = std::move(spare_keys_.back());
    spare_keys_.pop_back();
    return key;
  }
  void giveBackKeyBuffer(std::string&& key) {
    if (key.capacity() > std::string().capacity() && key.capacity() <= kMaxSpareKeyBytes &&
        spare_keys_.size() < kMaxSpareKeys) {
      key.clear();
      spare_keys_.push_back(std::move(key));
    }
  }
  // The pool for an origin of the given config generation's service (pools are keyed by
  // label and address, so a reload that keeps an origin keeps its idle connections).
  upstream::OriginPool& poolFor(const upstream::OriginSettings& settings);
  uint32_t nextOriginIndex() { return round_robin_++; }
  // Pipes for sending large cached bodies without copying them (loop thread only).
  net::SplicePipePool& splicePipes() { return splice_pipes_; }

  // Fetches running on this worker. A fetch owns itself while it runs; the worker keeps the
  // list so that stopping the worker can abort and release them (no leaks at exit).
  void fetchStarted(const std::shared_ptr<Fetch>& fetch) { fetches_.insert(fetch); }
  void fetchDone(const std::shared_ptr<Fetch>& fetch) { fetches_.erase(fetch); }
  // Loop thread, after the loop stopped.
  void abortFetches();

 private:
  SharedState& shared_;
  net::EventLoop& loop_;
  std::map<std::string, std::unique_ptr<upstream::OriginPool>> pools_;
  uint32_t round_robin_ = 0;
  net::SplicePipePool splice_pipes_;
  std::set<std::shared_ptr<Fetch>> fetches_;
  uint64_t wall_iteration_ = 0;
  WallTime wall_now_{};
  static constexpr size_t kMaxSpareKeys = 256;       // > the streams one h2 connection runs
  static constexpr size_t kMaxSpareKeyBytes = 2048;  // longer keys are rare: not kept
  std::vector<std::string> spare_keys_;
  HostMemo host_memo_;
};

}  // namespace ec::proxy
