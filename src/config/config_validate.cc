// validate(): range checks driven by the declaration tables, then the cross-field checks no
// single field can express. Also the quick-start flag overrides and the reload diff, which
// walk the same tables.

#include "config/config_validate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "base/strings.h"
#include "config/address.h"
#include "config/config_schema.h"

namespace ec::config {
namespace detail {
namespace {

std::string indexed(std::string_view base, size_t index) {
  return std::string(base) + "[" + std::to_string(index) + "]";
}

std::string joinPath(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

template <typename Section>
void checkRanges(const SectionDecl<Section>& decl, const Section& section,
                 const std::string& prefix, std::vector<Issue>& issues) {
  for (const auto& field : decl.fields) {
    const std::string path = joinPath(prefix, field.key);
    auto out_of_range = [&](uint64_t value, bool too_small) {
      const uint64_t bound = too_small ? field.min : field.max;
      issues.push_back(
          {path, formatBound(field.type, value) +
                     (too_small ? " is below the minimum " : " is above the maximum ") +
                     formatBound(field.type, bound)});
    };
    std::visit(
        [&](auto member) {
          const auto& value = section.*member;
          using Value = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<Value, std::string>) {
            if (field.required && value.empty()) {
              issues.push_back({path, "is required"});
            } else if (field.type == FieldType::kChoice) {
              if (std::find(field.choices.begin(), field.choices.end(), value) ==
                  field.choices.end()) {
                std::string choices;
                for (std::string_view choice : field.choices) {
                  choices += choices.empty() ? "" : ", ";
                  choices += choice;
                }
                issues.push_back({path, "\"" + value + "\" is not one of: " + choices});
              }
            } else if (value.size() > field.max) {
              issues.push_back({path, "is longer than " + std::to_string(field.max) + " bytes"});
            }
          } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
            if (field.required && value.empty()) issues.push_back({path, "must not be empty"});
          } else if constexpr (std::is_same_v<Value, double>) {
            const double scaled = value * 1e6;
            if (!std::isfinite(value) || scaled < static_cast<double>(field.min) ||
                scaled > static_cast<double>(field.max)) {
              issues.push_back({path, "must be between " + formatBound(field.type, field.min) +
                                          " and " + formatBound(field.type, field.max)});
            }
          } else if constexpr (!std::is_same_v<Value, bool>) {
            const auto number = static_cast<uint64_t>(value);
            if (number < field.min) out_of_range(number, true);
            if (number > field.max) out_of_range(number, false);
          }
        },
        field.member);
  }
}

// A node name goes into X-Cache: keep it a plain token.
bool isNodeNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '_' ||
         c == '.';
}

// Checks an address the node binds to; returns "host:port" normalised for duplicate checks.
std::optional<std::string> checkBindAddress(const std::string& address, const std::string& path,
                                            std::vector<Issue>& issues) {
  auto parsed = parseHostPort(address);
  if (!parsed.ok()) {
    issues.push_back({path, "\"" + address + "\": " + parsed.error().context});
    return std::nullopt;
  }
  if (!parsed->literal) {
    issues.push_back({path, "\"" + address +
                                "\": must be an IP address, as in 127.0.0.1:8080 "
                                "or [::1]:8080"});
    return std::nullopt;
  }
  return parsed->host + "/" + std::to_string(parsed->port);
}

void checkCidrs(const std::vector<std::string>& cidrs, const std::string& path,
                std::vector<Issue>& issues) {
  for (size_t i = 0; i < cidrs.size(); ++i) {
    if (auto cidr = parseCidr(cidrs[i]); !cidr.ok()) {
      issues.push_back({indexed(path, i), "\"" + cidrs[i] + "\": " + cidr.error().context});
    }
  }
}

bool isIpv4(const std::string& text, uint32_t* host_order) {
  in_addr address{};
  if (inet_pton(AF_INET, text.c_str(), &address) != 1) return false;
  if (host_order != nullptr) *host_order = ntohl(address.s_addr);
  return true;
}

void checkPurge(const Config& config, std::vector<Issue>& issues) {
  const PurgeConfig& purge = config.purge;
  checkRanges(purgeDecl(), purge, "purge", issues);
  checkCidrs(purge.allow, "purge.allow", issues);
  if (!purge.host_regex.empty()) {
    // std::regex reports a bad pattern by throwing: caught here, at the config boundary.
    try {
      std::regex compiled(purge.host_regex, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      issues.push_back({"purge.host_regex", "\"" + purge.host_regex +
                                                "\" is not a valid regular expression (" +
                                                error.what() + ")"});
    }
  }
  const HtcpConfig& htcp = purge.htcp;
  checkRanges(htcpDecl(), htcp, "purge.htcp", issues);
  if (!htcp.address.empty()) checkBindAddress(htcp.address, "purge.htcp.address", issues);
  for (size_t i = 0; i < htcp.groups.size(); ++i) {
    uint32_t group = 0;
    if (!isIpv4(htcp.groups[i], &group) || (group >> 28) != 0xE) {
      issues.push_back({indexed("purge.htcp.groups", i),
                        "\"" + htcp.groups[i] + "\" is not an IPv4 multicast group (224.0.0.0/4, "
                                                 "e.g. 239.128.0.112)"});
    }
  }
  if (!htcp.groups.empty() && htcp.address.empty()) {
    issues.push_back({"purge.htcp.groups", "needs purge.htcp.address (e.g. 0.0.0.0:4827)"});
  }
  if (!isIpv4(htcp.interface, nullptr)) {
    issues.push_back({"purge.htcp.interface",
                      "\"" + htcp.interface + "\" is not an IPv4 address (e.g. 0.0.0.0)"});
  }
  checkCidrs(htcp.allow, "purge.htcp.allow", issues);
  checkCidrs(htcp.sequential_sources, "purge.htcp.sequential_sources", issues);
  const KafkaPurgeConfig& kafka = purge.kafka;
  checkRanges(kafkaPurgeDecl(), kafka, "purge.kafka", issues);
  if (!kafka.brokers.empty() && kafka.topics.empty()) {
    issues.push_back({"purge.kafka.topics", "at least one topic is needed when brokers are set "
                                            "(e.g. eqiad.resource-purge)"});
  }
  for (size_t i = 0; i < kafka.properties.size(); ++i) {
    const std::string& property = kafka.properties[i];
    const size_t equals = property.find('=');
    if (equals == std::string::npos || equals == 0) {
      issues.push_back({indexed("purge.kafka.properties", i),
                        "\"" + property + "\": expected key=value (e.g. security.protocol=ssl)"});
    }
  }
}

void checkOriginTls(const OriginTlsConfig& tls, const std::string& path,
                    std::vector<Issue>& issues) {
  checkRanges(originTlsDecl(), tls, path, issues);  // the defaults pass: checked even when off
  if (!tls.enabled) return;
  if (tls.min_version > tls.max_version) {  // "TLSv1.2" < "TLSv1.3"
    issues.push_back({path + ".min_version", "is newer than max_version (" + tls.max_version + ")"});
  }
  if (tls.cert.empty() != tls.key.empty()) {
    issues.push_back({path + (tls.cert.empty() ? ".cert" : ".key"),
                      "a client certificate needs both cert and key"});
  }
}

void checkServices(const Config& config, std::vector<Issue>& issues) {
  if (config.services.empty()) {
    issues.push_back({"services", "at least one service is required"});
    return;
  }
  std::map<std::string, std::string> names;  // name -> path of first use
  std::map<std::string, std::string> patterns;
  for (size_t s = 0; s < config.services.size(); ++s) {
    const ServiceConfig& service = config.services[s];
    const std::string path = indexed("services", s);
    checkRanges(serviceDecl(), service, path, issues);
    if (!service.name.empty()) {
      auto [it, inserted] = names.emplace(service.name, path);
      if (!inserted) {
        issues.push_back(
            {path + ".name", "\"" + service.name + "\" is already the name of " + it->second});
      }
    }
    for (size_t h = 0; h < service.hosts.size(); ++h) {
      const std::string host_path = indexed(path + ".hosts", h);
      const std::string& pattern = service.hosts[h];
      if (Status status = checkHostPattern(pattern); !status.ok()) {
        issues.push_back({host_path, "\"" + pattern + "\": " + status.error().context});
        continue;
      }
      auto [it, inserted] = patterns.emplace(pattern, host_path);
      if (!inserted) {
        issues.push_back({host_path, "\"" + pattern + "\" is already matched by " + it->second +
                                         " (a host must lead to one service)"});
      }
    }
    if (service.origins.empty()) {
      issues.push_back({path + ".origins", "at least one origin is required"});
    }
    for (size_t o = 0; o < service.origins.size(); ++o) {
      const OriginConfig& origin = service.origins[o];
      const std::string origin_path = indexed(path + ".origins", o);
      checkRanges(originDecl(), origin, origin_path, issues);
      checkOriginTls(origin.tls, origin_path + ".tls", issues);
      if (origin.address.empty()) continue;  // reported as required
      if (auto parsed = parseHostPort(origin.address); !parsed.ok()) {
        issues.push_back(
            {origin_path + ".address", "\"" + origin.address + "\": " + parsed.error().context});
      }
    }
  }
}

}  // namespace

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

void validateInto(const Config& config, std::vector<Issue>& issues) {
  checkRanges(topLevelDecl(), config, "", issues);
  if (config.node_name.empty()) {
    issues.push_back({"node_name", "must not be empty"});
  } else if (!std::all_of(config.node_name.begin(), config.node_name.end(), isNodeNameChar)) {
    issues.push_back({"node_name", "\"" + config.node_name +
                                       "\" may hold only letters, digits, '-', '_' and '.'"});
  }

  std::map<std::string, std::string> bound;  // normalised address -> path of first use
  auto check_unique = [&](const std::optional<std::string>& key, const std::string& path) {
    if (!key) return;
    auto [it, inserted] = bound.emplace(*key, path);
    if (!inserted) issues.push_back({path, "same address as " + it->second});
  };
  if (config.listeners.empty())
    issues.push_back({"listeners", "at least one listener is required"});
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const std::string path = indexed("listeners", i) + ".address";
    check_unique(checkBindAddress(config.listeners[i].address, path, issues), path);
    const TlsConfig& tls = config.listeners[i].tls;
    const std::string tls_path = indexed("listeners", i) + ".tls";
    checkRanges(tlsDecl(), tls, tls_path, issues);  // the defaults pass: checked even when off
    if (!tls.enabled()) continue;
    if (tls.min_version > tls.max_version) {  // "TLSv1.2" < "TLSv1.3"
      issues.push_back({tls_path + ".min_version", "is newer than max_version (" +
                                                       tls.max_version + ")"});
    }
    for (size_t a = 0; a < tls.alpn.size(); ++a) {
      if (tls.alpn[a] != "http/1.1" && tls.alpn[a] != "h2") {
        issues.push_back({indexed(tls_path + ".alpn", a),
                          "\"" + tls.alpn[a] + "\" is not a supported protocol (h2, http/1.1)"});
      }
    }
    for (size_t c = 0; c < tls.certificates.size(); ++c) {
      checkRanges(certificateDecl(), tls.certificates[c],
                  indexed(tls_path + ".certificates", c), issues);
    }
  }
  check_unique(checkBindAddress(config.admin.address, "admin.address", issues), "admin.address");
  for (size_t i = 0; i < config.admin.allow.size(); ++i) {
    if (auto cidr = parseCidr(config.admin.allow[i]); !cidr.ok()) {
      issues.push_back({indexed("admin.allow", i),
                        "\"" + config.admin.allow[i] + "\": " + cidr.error().context});
    }
  }
  if (config.demo.enabled) {
    check_unique(checkBindAddress(config.demo.address, "demo.address", issues), "demo.address");
  }

  checkRanges(http2Decl(), config.http2, "http2", issues);
  checkRanges(limitsDecl(), config.limits, "limits", issues);
  if (config.limits.max_field_size > config.limits.max_header_bytes) {
    issues.push_back({"limits.max_field_size", "is larger than limits.max_header_bytes (" +
                                                   formatSize(config.limits.max_header_bytes) +
                                                   ")"});
  }

  const CacheConfig& cache = config.cache;
  checkRanges(cacheDecl(), cache, "cache", issues);
  if (cache.max_object_size > cache.memory_size) {
    issues.push_back({"cache.max_object_size",
                      "is larger than cache.memory_size (" + formatSize(cache.memory_size) + ")"});
  }
  for (size_t d = 0; d < cache.disk.size(); ++d) {
    const std::string path = indexed("cache.disk", d);
    checkRanges(diskDecl(), cache.disk[d], path, issues);
    for (size_t e = 0; e < d; ++e) {
      if (!cache.disk[d].path.empty() && cache.disk[e].path == cache.disk[d].path) {
        issues.push_back({path + ".path", "\"" + cache.disk[d].path + "\" is already used by " +
                                              indexed("cache.disk", e)});
      }
    }
  }
  if (cache.default_ttl_s > cache.ttl_cap_s) {
    issues.push_back({"cache.default_ttl", "is longer than cache.ttl_cap (" +
                                               formatDurationMillis(cache.ttl_cap_s * 1000) + ")"});
  }
  checkRanges(demoDecl(), config.demo, "demo", issues);
  checkRanges(accessLogDecl(), config.access_log, "access_log", issues);
  for (size_t i = 0; i < config.access_log.kafka_properties.size(); ++i) {
    const std::string& property = config.access_log.kafka_properties[i];
    const size_t equals = property.find('=');
    if (equals == std::string::npos || equals == 0) {
      issues.push_back({"access_log.kafka_properties[" + std::to_string(i) + "]",
                        "\"" + property + "\" is not key=value (example: compression.codec=lz4)"});
    }
  }
  checkServices(config, issues);
  checkPurge(config, issues);
}

ConfigError locate(const Config& config, const Issue& issue) {
  const SourcePosition position = config.source_map.find(issue.path);
  ConfigError error;
  error.file = position.file.empty() ? config.source : position.file;
  error.line = position.line;
  error.column = position.column;
  error.message = issue.path.empty() ? issue.message : issue.path + ": " + issue.message;
  return error;
}

}  // namespace detail

SourcePosition SourceMap::find(std::string_view path) const {
  std::string_view current = path;
  while (!current.empty()) {
    if (auto it = positions.find(current); it != positions.end()) return it->second;
    const size_t cut = current.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    current = current.substr(0, cut);
  }
  return {};
}

void SourceMap::replace(const std::string& path, SourcePosition origin) {
  for (auto it = positions.lower_bound(path); it != positions.end();) {
    const std::string& key = it->first;
    if (!key.starts_with(path)) break;
    const bool nested =
        key.size() == path.size() || key[path.size()] == '.' || key[path.size()] == '[';
    it = nested ? positions.erase(it) : std::next(it);
  }
  positions[path] = std::move(origin);
}

std::vector<ConfigError> validate(const Config& config) {
  std::vector<detail::Issue> issues;
  detail::validateInto(config, issues);
  std::vector<ConfigError> errors;
  for (const detail::Issue& issue : issues) errors.push_back(detail::locate(config, issue));
  return errors;
}

std::vector<ConfigError> applyOverrides(Config& config, const FlagOverrides& flags) {
  std::vector<ConfigError> errors;
  auto flag_error = [&](std::string_view flag, const std::string& message) {
    errors.push_back(ConfigError{std::string(flag), 0, 0, message});
  };
  if (!flags.listen.empty()) {
    config.listeners.clear();
    for (const std::string& address : flags.listen) {
      config.listeners.push_back(ListenerConfig{address});
    }
    config.source_map.replace("listeners", SourcePosition{0, 0, "--listen"});
  }
  if (flags.origin) {
    ServiceConfig service;
    service.name = "default";
    service.hosts = {"*"};
    OriginConfig origin;
    origin.address = *flags.origin;
    service.origins.push_back(origin);
    config.services = {service};
    // The demo exists to stand in for a real origin; with one given it only takes a port.
    config.demo.enabled = false;
    config.source_map.replace("services", SourcePosition{0, 0, "--origin"});
  }
  if (flags.memory) {
    if (auto bytes = parseByteSize(*flags.memory)) {
      config.cache.memory_size = *bytes;
      config.source_map.replace("cache.memory_size", SourcePosition{0, 0, "--memory"});
    } else {
      flag_error("--memory", "\"" + *flags.memory + "\" is not a size (examples: 256MiB, 1GiB)");
    }
  }
  if (flags.admin) {
    config.admin.address = *flags.admin;
    config.source_map.replace("admin.address", SourcePosition{0, 0, "--admin"});
  }
  if (flags.name) {
    config.node_name = *flags.name;
    config.source_map.replace("node_name", SourcePosition{0, 0, "--name"});
  }
  if (flags.workers) {
    config.workers = *flags.workers;
    config.source_map.replace("workers", SourcePosition{0, 0, "--workers"});
  }
  return errors;
}

namespace {
template <typename Section>
void diffRestartOnly(const SectionDecl<Section>& decl, const Section& running, const Section& next,
                     const std::string& prefix, std::vector<std::string>& changed) {
  for (const auto& field : decl.fields) {
    if (field.reload != Reload::kRestart) continue;
    if (formatFieldValue(field, running) != formatFieldValue(field, next)) {
      changed.push_back(prefix.empty() ? std::string(field.key)
                                       : prefix + "." + std::string(field.key));
    }
  }
}
}  // namespace

std::vector<std::string> restartOnlyChanges(const Config& running, const Config& next) {
  std::vector<std::string> changed;
  diffRestartOnly(topLevelDecl(), running, next, "", changed);
  // TLS settings reload (new handshakes use them); addresses and TLS on/off need a restart.
  auto shape = [](const Config& config) {
    std::vector<std::pair<std::string, bool>> out;
    for (const ListenerConfig& l : config.listeners) out.emplace_back(l.address, l.tls.enabled());
    return out;
  };
  if (shape(running) != shape(next)) changed.push_back("listeners");
  diffRestartOnly(adminDecl(), running.admin, next.admin, "admin", changed);
  diffRestartOnly(limitsDecl(), running.limits, next.limits, "limits", changed);
  diffRestartOnly(cacheDecl(), running.cache, next.cache, "cache", changed);
  if (running.cache.disk != next.cache.disk) changed.push_back("cache.disk");
  diffRestartOnly(demoDecl(), running.demo, next.demo, "demo", changed);
  diffRestartOnly(purgeDecl(), running.purge, next.purge, "purge", changed);
  diffRestartOnly(htcpDecl(), running.purge.htcp, next.purge.htcp, "purge.htcp", changed);
  diffRestartOnly(kafkaPurgeDecl(), running.purge.kafka, next.purge.kafka, "purge.kafka", changed);
  diffRestartOnly(accessLogDecl(), running.access_log, next.access_log, "access_log", changed);
  return changed;
}

}  // namespace ec::config
