#pragma once
// The access log's metric declarations and their registration (scrape-time reads of
// AccessLogStats and the rings).

#include <vector>

#include "accesslog/access_log.h"
#include "observe/metric.h"
#include "observe/registry.h"

namespace ec::accesslog {

const std::vector<const observe::MetricDecl*>& metricDecls();
// `log` may be null (access log disabled): the drop counters are still exported, as 0, so
// that alert rules always have a series.
void registerMetrics(observe::Registry& registry, AccessLog* log);

}  // namespace ec::accesslog
