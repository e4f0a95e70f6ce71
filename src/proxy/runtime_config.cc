#include "proxy/runtime_config.h"

#include "base/strings.h"
#include "cache/x_cache.h"

namespace ec::proxy {

std::string hostOnly(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return toLower(host);
}

const ServiceRoute* RuntimeConfig::routeFor(std::string_view authority) const {
  const std::string host = hostOnly(authority);
  const ServiceRoute* wildcard = nullptr;
  size_t best_suffix = 0;
  const ServiceRoute* suffix_match = nullptr;
  for (const ServiceRoute& service : services) {
    for (const std::string& exact : service.exact_hosts) {
      if (exact == host) return &service;
    }
    for (const std::string& suffix : service.suffix_hosts) {
      if (host.size() > suffix.size() && host.ends_with(suffix) && suffix.size() > best_suffix) {
        best_suffix = suffix.size();
        suffix_match = &service;
      }
    }
    if (service.match_all && wildcard == nullptr) wildcard = &service;
  }
  return suffix_match != nullptr ? suffix_match : wildcard;
}

void RuntimeConfig::fillXCacheLines() {
  static constexpr const char* kDispositions[] = {"hit", "miss", "pass", "int", "hit"};
  for (size_t i = 0; i < x_cache_lines.size(); ++i) {
    std::string x_cache = cache::appendXCache({}, node_name, kDispositions[i]);
    if (i == 4) x_cache = cache::appendXCache(x_cache, node_name, "miss");  // disk hit: hit-local
    x_cache_lines[i] = "X-Cache: " + x_cache + "\r\nX-Cache-Status: " +
                       std::string(cache::xCacheStatus(x_cache)) + "\r\n";
  }
}

}  // namespace ec::proxy
