#pragma once
// The data path's metric declarations (proxy, origins, memory tier) and their registration:
// each series reads the plain atomics in ProxyStats / OriginStats / Store::Stats at scrape time.

#include <vector>

#include "observe/metric.h"
#include "observe/registry.h"

namespace ec::proxy {

class SharedState;

const std::vector<const observe::MetricDecl*>& metricDecls();
void registerMetrics(observe::Registry& registry, SharedState& shared);

}  // namespace ec::proxy
