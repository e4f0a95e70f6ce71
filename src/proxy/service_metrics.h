#pragma once
// ServiceMetrics: the latency histograms of one service (client time to first byte and total
// response time by cache result and status class, origin time to first byte by origin).
// Series are created on first use, so a service shows only the combinations it has served;
// after that the hot path reads an atomic pointer and adds to relaxed atomics, no lock.
// ServiceMetricsTable owns one ServiceMetrics per service name for the server's life, so a
// reload keeps the series of a service that stays.

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "observe/metric.h"
#include "observe/registry.h"
#include "proxy/proxy_stats.h"

namespace ec::proxy {

class ServiceMetrics {
 public:
  ServiceMetrics(observe::Registry& registry, std::string service);

  // status_class 1..5 (1xx..5xx); anything else is filed under 5xx.
  observe::Histogram& clientTtfb(CacheResult result, int status_class);
  observe::Histogram& clientTotal(CacheResult result, int status_class);

 private:
  static constexpr size_t kResults = static_cast<size_t>(CacheResult::kCount);
  static constexpr size_t kSlots = kResults * 5;
  using Slots = std::array<std::atomic<observe::Histogram*>, kSlots>;
  observe::Histogram& get(Slots& slots, const observe::MetricDecl& decl, CacheResult result,
                          int status_class);

  observe::Registry& registry_;
  const std::string service_;
  std::mutex mutex_;  // first use of a slot only
  Slots ttfb_{};
  Slots total_{};
};

class ServiceMetricsTable {
 public:
  explicit ServiceMetricsTable(observe::Registry& registry) : registry_(registry) {}
  std::shared_ptr<ServiceMetrics> forService(const std::string& service);
  // edgecache_origin_ttfb_seconds{service, origin}; `origin` is the origin's label.
  observe::Histogram* originTtfb(const std::string& service, const std::string& origin);

 private:
  observe::Registry& registry_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ServiceMetrics>> services_;
};

// The declarations above, for proxy::metricDecls().
const std::vector<const observe::MetricDecl*>& serviceMetricDecls();

}  // namespace ec::proxy
