#pragma once
// Turns a validated config::Config into the RuntimeConfig the data path reads: resolves
// origin addresses (once, here, never per request) and converts units.

#include "base/result.h"
#include "config/config.h"
#include "proxy/runtime_config.h"
#include "proxy/service_metrics.h"

namespace ec::server {

// `metrics`, when given, attaches each service's latency histograms to its route.
Result<proxy::RuntimeConfigPtr> buildRuntimeConfig(const config::Config& config, uint64_t generation,
                                                   proxy::ServiceMetricsTable* metrics = nullptr);

}  // namespace ec::server
