#pragma once
// Turns a validated config::Config into the RuntimeConfig the data path reads: resolves
// origin addresses (once, here, never per request) and converts units.

#include "base/result.h"
#include "config/config.h"
#include "proxy/runtime_config.h"

namespace ec::server {

Result<proxy::RuntimeConfigPtr> buildRuntimeConfig(const config::Config& config, uint64_t generation);

}  // namespace ec::server
