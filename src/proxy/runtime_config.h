#pragma once
// RuntimeConfig: the validated configuration as the data path uses it (parsed addresses,
// host matchers, policy numbers). Built once per load or reload and shared read-only by every
// worker through an atomic shared_ptr, so a reload never blocks or tears a request: in-flight
// requests keep the generation they started with.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/policy_config.h"
#include "h2/session.h"
#include "http/parse_limits.h"
#include "upstream/origin_pool.h"

namespace ec::observe {
class Histogram;
}

namespace ec::proxy {

class ServiceMetrics;

struct ServiceRoute {
  std::string name;
  std::vector<std::string> exact_hosts;     // lowercased
  std::vector<std::string> suffix_hosts;    // "*.wiki.test" stored as ".wiki.test"
  bool match_all = false;                   // "*"
  std::vector<upstream::OriginSettings> origins;
  bool https_redirect = false;
  std::string hsts_line;  // "Strict-Transport-Security: max-age=...\r\n", or empty
  bool hsts_replaces_origin = false;  // the origin's own HSTS field is dropped for ours
  std::string https_port_suffix;      // ":8443" in https_redirect's Location, or empty
  // Latency histograms (service_metrics.h); null / empty when built without a registry
  // (unit tests). origin_ttfb is indexed like `origins`.
  std::shared_ptr<ServiceMetrics> metrics;
  std::vector<observe::Histogram*> origin_ttfb;
};

struct RuntimeConfig {
  uint64_t generation = 0;
  std::string node_name;
  http::ParseLimits limits;
  cache::PolicyConfig policy;
  uint64_t max_object_bytes = 64ull << 20;
  Millis header_timeout{10000};
  Millis idle_timeout{60000};
  Millis send_timeout{60000};
  uint64_t min_send_rate = 240;  // bytes per second (limits.min_send_rate)
  Millis body_timeout{20000};
  uint64_t min_body_rate = 240;  // bytes per second (limits.min_body_rate)
  h2::SessionLimits h2_limits;  // from the `http2` section
  size_t h2_response_buffer = size_t{1} << 20;  // http2.max_response_buffer
  uint32_t max_connections = 10000;
  std::vector<ServiceRoute> services;
  // "X-Cache: <node> <hit|miss|pass|int>\r\nX-Cache-Status: ...\r\n" for each disposition
  // (indexed like proxy::Disposition) when no upstream X-Cache came along; see
  // fillXCacheLines().
  std::array<std::string, 5> x_cache_lines;
  // The two values of those lines, for the access log.
  std::array<std::string, 5> x_cache_values;
  std::array<std::string, 5> x_cache_status_values;
  void fillXCacheLines();

  // The service for a request authority (host[:port], any case); nullptr when none matches.
  // An exact host first, then the longest "*." suffix, then "*"; on equal matches the service
  // listed first. With indexHosts() done this is a few hash lookups however many services and
  // hosts there are (a large site serves hundreds of domains), else a scan.
  const ServiceRoute* routeFor(std::string_view authority) const;
  // Builds the host index from `services`; call once they are final.
  void indexHosts();

 private:
  struct HostHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  using HostIndex = std::unordered_map<std::string, size_t, HostHash, std::equal_to<>>;
  bool hosts_indexed_ = false;
  HostIndex exact_index_;   // host -> index in services
  HostIndex suffix_index_;  // ".wiki.test" -> index in services
  size_t match_all_index_ = SIZE_MAX;
  const ServiceRoute* scanFor(std::string_view host) const;
};

using RuntimeConfigPtr = std::shared_ptr<const RuntimeConfig>;

// Strips the port and a trailing dot and lowercases: "En.Wiki.Test.:80" -> "en.wiki.test".
std::string hostOnly(std::string_view authority);

}  // namespace ec::proxy
