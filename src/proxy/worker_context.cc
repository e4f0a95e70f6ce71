#include "proxy/worker_context.h"

#include "proxy/fetch.h"

namespace ec::proxy {

upstream::OriginStats& SharedState::originStats(const std::string& label) {
  std::lock_guard lock(origin_mutex_);
  auto& slot = origin_stats_[label];
  if (!slot) slot = std::make_unique<upstream::OriginStats>();
  return *slot;
}

upstream::OriginPool& WorkerContext::poolFor(const upstream::OriginSettings& settings) {
  // Timeouts belong in the key too: a reload that changes them must not reuse a pool that
  // still carries the old values.
  const std::string key = settings.label + "|" + std::to_string(settings.connect_timeout.count()) +
                          "|" + std::to_string(settings.first_byte_timeout.count()) + "|" +
                          std::to_string(settings.between_bytes_timeout.count()) + "|" +
                          std::to_string(settings.max_connections);
  auto it = pools_.find(key);
  if (it != pools_.end()) return *it->second;
  auto pool = std::make_unique<upstream::OriginPool>(loop_, settings,
                                                     shared_.originStats(settings.label));
  return *pools_.emplace(key, std::move(pool)).first->second;
}

void WorkerContext::abortFetches() {
  auto fetches = std::move(fetches_);
  fetches_.clear();
  for (const auto& fetch : fetches) fetch->abortForShutdown();
}

}  // namespace ec::proxy
