#include "proxy/worker_context.h"

#include "cache/cache_key.h"
#include "proxy/fetch.h"

namespace ec::proxy {

storage::Store& SharedState::memoryTier() {
  if (tiered_) return tiered_->memory();
  return store_;
}

upstream::OriginStats& SharedState::originStats(const std::string& label) {
  std::lock_guard lock(origin_mutex_);
  auto& slot = origin_stats_[label];
  if (!slot) slot = std::make_unique<upstream::OriginStats>();
  return *slot;
}

const WorkerContext::HostMemo& WorkerContext::routeHost(const RuntimeConfigPtr& config,
                                                        std::string_view scheme,
                                                        std::string_view authority) {
  HostMemo& memo = host_memo_;
  if (memo.config.get() == config.get() && memo.authority == authority && memo.scheme == scheme) {
    return memo;
  }
  memo.config = config;
  memo.scheme.assign(scheme);
  memo.authority.assign(authority);
  memo.service = config->routeFor(authority);
  memo.key_origin.clear();
  cache::appendKeyOrigin(memo.key_origin, scheme, authority);
  return memo;
}

upstream::OriginPool& WorkerContext::poolFor(const upstream::OriginSettings& settings) {
  auto it = pools_.find(settings.pool_key);
  if (it != pools_.end()) return *it->second;
  auto pool = std::make_unique<upstream::OriginPool>(loop_, settings,
                                                     shared_.originStats(settings.label));
  return *pools_.emplace(settings.pool_key, std::move(pool)).first->second;
}

void WorkerContext::abortFetches() {
  auto fetches = std::move(fetches_);
  fetches_.clear();
  for (const auto& fetch : fetches) fetch->abortForShutdown();
}

}  // namespace ec::proxy
