#pragma once
// Metrics of the cache tiers beyond the memory tier's own (proxy/proxy_metrics.cc): the disk
// tier per store file (bytes, objects, reclaims, reads, writes, errors, corrupt records, the
// up gauge the alert rules watch) and hits by tier. Registered only with a disk tier.

#include <vector>

#include "observe/registry.h"
#include "storage/tiered_store.h"

namespace ec::server {

const std::vector<const observe::MetricDecl*>& storageMetricDecls();
void registerStorageMetrics(observe::Registry& registry, storage::TieredStore& tiered);

}  // namespace ec::server
