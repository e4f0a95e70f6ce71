#include "proxy/service_metrics.h"

namespace ec::proxy {
namespace {
using observe::MetricDecl;
using Type = MetricDecl::Type;

const MetricDecl kClientTtfb{
    "edgecache_client_ttfb_seconds",
    "Time from a request's head being parsed to its response head being queued for the "
    "client, by service, cache result (hit, miss, pass, stale, coalesced, int) and status class.",
    Type::kHistogram, {"service", "cache_result", "status_class"},
    observe::latencySecondsBuckets(), "seconds"};
const MetricDecl kClientTotal{
    "edgecache_client_response_seconds",
    "Time from a request's head being parsed to the last byte of its response being queued, by "
    "service, cache result and status class.",
    Type::kHistogram, {"service", "cache_result", "status_class"},
    observe::latencySecondsBuckets(), "seconds"};
const MetricDecl kOriginTtfb{
    "edgecache_origin_ttfb_seconds",
    "Time from starting an origin request (including the connection, when a new one is made) "
    "to its response head, by service and origin.",
    Type::kHistogram, {"service", "origin"}, observe::latencySecondsBuckets(), "seconds"};

constexpr std::string_view kClassNames[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

}  // namespace

const std::vector<const observe::MetricDecl*>& serviceMetricDecls() {
  static const std::vector<const MetricDecl*> decls = {&kClientTtfb, &kClientTotal, &kOriginTtfb};
  return decls;
}

ServiceMetrics::ServiceMetrics(observe::Registry& registry, std::string service)
    : registry_(registry), service_(std::move(service)) {}

observe::Histogram& ServiceMetrics::get(Slots& slots, const MetricDecl& decl, CacheResult result,
                                        int status_class) {
  if (status_class < 1 || status_class > 5) status_class = 5;
  const size_t result_index = std::min(static_cast<size_t>(result), kResults - 1);
  std::atomic<observe::Histogram*>& slot =
      slots[result_index * 5 + static_cast<size_t>(status_class - 1)];
  if (observe::Histogram* histogram = slot.load(std::memory_order_acquire)) return *histogram;
  std::lock_guard lock(mutex_);
  if (observe::Histogram* histogram = slot.load(std::memory_order_acquire)) return *histogram;
  observe::Histogram& created = registry_.histogram(
      decl, {service_, cacheResultName(result), kClassNames[status_class - 1]});
  slot.store(&created, std::memory_order_release);
  return created;
}

observe::Histogram& ServiceMetrics::clientTtfb(CacheResult result, int status_class) {
  return get(ttfb_, kClientTtfb, result, status_class);
}

observe::Histogram& ServiceMetrics::clientTotal(CacheResult result, int status_class) {
  return get(total_, kClientTotal, result, status_class);
}

std::shared_ptr<ServiceMetrics> ServiceMetricsTable::forService(const std::string& service) {
  std::lock_guard lock(mutex_);
  auto& entry = services_[service];
  if (!entry) entry = std::make_shared<ServiceMetrics>(registry_, service);
  return entry;
}

observe::Histogram* ServiceMetricsTable::originTtfb(const std::string& service,
                                                    const std::string& origin) {
  return &registry_.histogram(kOriginTtfb, {service, origin});
}

}  // namespace ec::proxy
