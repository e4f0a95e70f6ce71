#include "proxy/runtime_config.h"

#include "base/strings.h"
#include "cache/x_cache.h"

namespace ec::proxy {

namespace {

// The host of an authority, as written: without the port and a trailing dot.
std::string_view hostPart(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

}  // namespace

std::string hostOnly(std::string_view authority) { return toLower(hostPart(authority)); }

void RuntimeConfig::indexHosts() {
  exact_index_.clear();
  suffix_index_.clear();
  match_all_index_ = SIZE_MAX;
  for (size_t i = 0; i < services.size(); ++i) {
    const ServiceRoute& service = services[i];
    for (const std::string& exact : service.exact_hosts) exact_index_.emplace(exact, i);  // first wins
    for (const std::string& suffix : service.suffix_hosts) suffix_index_.emplace(suffix, i);
    if (service.match_all && match_all_index_ == SIZE_MAX) match_all_index_ = i;
  }
  hosts_indexed_ = true;
}

const ServiceRoute* RuntimeConfig::routeFor(std::string_view authority) const {
  // The host without port and trailing dot, lowercased into a stack buffer (no allocation).
  const std::string_view host = hostPart(authority);
  char buffer[256];
  std::string long_host;
  char* lower = buffer;
  if (host.size() > sizeof buffer) {
    long_host.resize(host.size());
    lower = long_host.data();
  }
  for (size_t i = 0; i < host.size(); ++i) lower[i] = asciiLower(host[i]);
  const std::string_view key(lower, host.size());
  if (!hosts_indexed_) return scanFor(key);

  if (auto exact = exact_index_.find(key); exact != exact_index_.end()) return &services[exact->second];
  if (!suffix_index_.empty()) {
    // Suffixes start at a dot and are shorter than the host: the leftmost dot gives the longest.
    for (size_t dot = key.find('.', 1); dot != std::string_view::npos; dot = key.find('.', dot + 1)) {
      if (auto suffix = suffix_index_.find(key.substr(dot)); suffix != suffix_index_.end()) {
        return &services[suffix->second];
      }
    }
  }
  return match_all_index_ != SIZE_MAX ? &services[match_all_index_] : nullptr;
}

const ServiceRoute* RuntimeConfig::scanFor(std::string_view host) const {
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
    x_cache_status_values[i] = std::string(cache::xCacheStatus(x_cache));
    x_cache_lines[i] = "X-Cache: " + x_cache + "\r\nX-Cache-Status: " + x_cache_status_values[i] + "\r\n";
    x_cache_values[i] = std::move(x_cache);
  }
}

}  // namespace ec::proxy
