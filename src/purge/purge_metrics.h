#pragma once
// The purge room's metric declarations (received, applied and rejected purges by source,
// expired Kafka events, HTCP loss, Kafka lag and backlog) and their registration. The names
// are those deploy/prometheus/alerts.yml uses: keep them.

#include <vector>

#include "observe/registry.h"
#include "purge/purger.h"

namespace ec::purge {

const std::vector<const observe::MetricDecl*>& metricDecls();
void registerMetrics(observe::Registry& registry, Purger& purger);

}  // namespace ec::purge
