#include "server/runtime_builder.h"

#include <algorithm>
#include <netdb.h>

#include <cstring>

#include "config/address.h"
#include "net/socket.h"
#include "tls/client_context.h"

namespace ec::server {
namespace {

// Origins may be configured by name; resolve once at load time.
Result<net::SocketAddress> resolveOrigin(const std::string& address) {
  auto numeric = net::parseSocketAddress(address);
  if (numeric.ok()) return numeric;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return numeric;
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return fail(Error::internal(ErrorKind::kInvalidArgument, "cannot resolve origin '" + address + "'"));
  }
  net::SocketAddress resolved;
  std::memcpy(&resolved.storage, found->ai_addr, found->ai_addrlen);
  resolved.length = found->ai_addrlen;
  freeaddrinfo(found);
  return resolved;
}

}  // namespace

Result<proxy::RuntimeConfigPtr> buildRuntimeConfig(const config::Config& config, uint64_t generation,
                                                   proxy::ServiceMetricsTable* metrics) {
  auto runtime = std::make_shared<proxy::RuntimeConfig>();
  runtime->generation = generation;
  runtime->node_name = config.node_name.empty() ? config::shortHostname() : config.node_name;

  const config::LimitsConfig& limits = config.limits;
  runtime->limits.max_request_line = limits.max_request_line;
  runtime->limits.max_field_size = limits.max_field_size;
  runtime->limits.max_field_count = limits.max_fields;
  runtime->limits.max_header_bytes = limits.max_header_bytes;
  runtime->limits.max_body_bytes = limits.max_request_body;
  runtime->header_timeout = Millis{limits.header_timeout_ms};
  runtime->idle_timeout = Millis{limits.idle_timeout_ms};
  runtime->send_timeout = Millis{limits.send_timeout_ms};
  runtime->min_send_rate = limits.min_send_rate;
  runtime->body_timeout = Millis{limits.body_timeout_ms};
  runtime->min_body_rate = limits.min_body_rate;
  const config::Http2Config& http2 = config.http2;
  h2::SessionLimits& h2 = runtime->h2_limits;
  h2.max_concurrent_streams = http2.max_concurrent_streams;
  h2.initial_window_size = static_cast<uint32_t>(http2.initial_window_size);
  h2.header_table_size = static_cast<uint32_t>(http2.header_table_size);
  h2.max_header_list_size = static_cast<uint32_t>(http2.max_header_list_size);
  h2.max_continuations = http2.max_continuations;
  h2.reset_burst = http2.reset_burst;
  h2.reset_rate = http2.reset_rate;
  h2.ping_burst = http2.ping_burst;
  h2.ping_rate = http2.ping_rate;
  h2.settings_burst = http2.settings_burst;
  h2.settings_rate = http2.settings_rate;
  h2.empty_data_burst = http2.empty_data_burst;
  h2.empty_data_rate = http2.empty_data_rate;
  h2.window_update_burst = http2.window_update_burst;
  h2.window_update_rate = http2.window_update_rate;
  runtime->h2_response_buffer = static_cast<size_t>(http2.max_response_buffer);
  runtime->max_connections = limits.max_connections;

  const config::CacheConfig& cache = config.cache;
  cache::PolicyConfig& policy = runtime->policy;
  policy.ttl_cap = static_cast<int64_t>(cache.ttl_cap_s);
  policy.default_ttl = static_cast<int64_t>(cache.default_ttl_s);
  policy.heuristic_fraction = cache.heuristic_fraction;
  policy.heuristic_cap = static_cast<int64_t>(cache.heuristic_cap_s);
  policy.cache_set_cookie = cache.cache_set_cookie;
  policy.honor_request_no_cache = cache.honor_request_no_cache;
  policy.honor_request_max_age = cache.honor_request_max_age;
  policy.grace = static_cast<int64_t>(cache.grace_s);
  policy.hit_for_pass = static_cast<int64_t>(cache.hit_for_pass_s);
  policy.node_name = runtime->node_name;
  policy.max_ranges = limits.max_ranges;
  runtime->max_object_bytes = cache.max_object_size;
  // With a disk tier, objects up to its limit are stored (on disk; memory keeps its own limit).
  if (!cache.disk.empty()) {
    runtime->max_object_bytes = std::max(cache.max_object_size, cache.disk_max_object_size);
  }

  for (const config::ServiceConfig& service : config.services) {
    proxy::ServiceRoute route;
    route.name = service.name;
    for (const std::string& host : service.hosts) {
      if (host == "*") route.match_all = true;
      else if (host.starts_with("*.")) route.suffix_hosts.push_back(proxy::hostOnly(host.substr(2)).insert(0, "."));
      else route.exact_hosts.push_back(proxy::hostOnly(host));
    }
    for (const config::OriginConfig& origin : service.origins) {
      auto address = resolveOrigin(origin.address);
      if (!address.ok()) return fail(address.error());
      upstream::OriginSettings settings;
      settings.address = *address;
      settings.label = service.name + "/" + origin.address;
      settings.connect_timeout = Millis{origin.connect_timeout_ms};
      settings.first_byte_timeout = Millis{origin.first_byte_timeout_ms};
      settings.between_bytes_timeout = Millis{origin.between_bytes_timeout_ms};
      settings.max_connections = origin.max_connections;
      settings.limits = runtime->limits;
      settings.limits.max_body_bytes = UINT64_MAX;  // response bodies are bounded by the store
      if (origin.tls.enabled) {
        auto host = config::parseHostPort(origin.address);
        if (!host.ok()) return fail(host.error());
        auto context = tls::ClientContext::create(origin.tls, host->host);
        if (!context.ok()) {
          return fail(Error::internal(ErrorKind::kInvalidArgument,
                                      "origin " + settings.label + " tls: " + context.error().context));
        }
        settings.tls = std::move(*context);
      }
      settings.makePoolKey();
      if (metrics != nullptr) route.origin_ttfb.push_back(metrics->originTtfb(service.name, settings.label));
      route.origins.push_back(std::move(settings));
    }
    route.https_redirect = service.https_redirect;
    uint32_t https_port = service.https_port;
    if (https_port == 0) {
      for (const config::ListenerConfig& listener : config.listeners) {
        if (!listener.tls.enabled()) continue;
        if (auto bound = config::parseHostPort(listener.address); bound.ok()) https_port = bound->port;
        break;
      }
    }
    if (https_port != 0 && https_port != 443) route.https_port_suffix = ":" + std::to_string(https_port);
    route.hsts_replaces_origin = service.hsts_source == "config";
    if (service.hsts_max_age_s > 0) {
      route.hsts_line = "Strict-Transport-Security: max-age=" + std::to_string(service.hsts_max_age_s);
      if (service.hsts_include_subdomains) route.hsts_line += "; includeSubDomains";
      if (service.hsts_preload) route.hsts_line += "; preload";
      route.hsts_line += "\r\n";
    }
    if (metrics != nullptr) route.metrics = metrics->forService(service.name);
    runtime->services.push_back(std::move(route));
  }
  runtime->indexHosts();
  runtime->fillXCacheLines();
  return proxy::RuntimeConfigPtr(std::move(runtime));
}

}  // namespace ec::server
