// YAML -> Config. Reads every section through its declaration table, reports each unreadable
// value and unknown key with its line and column, then runs validate() and reports its findings
// at the lines they concern. yaml-cpp throws; this file is the boundary that turns its
// exceptions into ConfigErrors.

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "config/config_schema.h"
#include "config/config_validate.h"

namespace ec::config {
namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string joinPath(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string_view nodeKindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "an undefined value";
  }
}

template <typename Section>
std::vector<std::string_view> keysOf(const SectionDecl<Section>& decl) {
  std::vector<std::string_view> keys;
  for (const auto& field : decl.fields) keys.push_back(field.key);
  for (const auto& child : decl.children) keys.push_back(child.key);
  return keys;
}

// Where a key that is unknown here is declared elsewhere, e.g. "memory_size" at the top level
// belongs in "cache".
std::string sectionDeclaring(std::string_view key) {
  std::string found;
  auto look = [&](const auto& decl) {
    for (std::string_view candidate : keysOf(decl)) {
      if (candidate == key && found.empty()) found = std::string(decl.path);
    }
  };
  look(listenerDecl());
  look(tlsDecl());
  look(certificateDecl());
  look(adminDecl());
  look(limitsDecl());
  look(cacheDecl());
  look(diskDecl());
  look(serviceDecl());
  look(originDecl());
  look(originTlsDecl());
  look(http2Decl());
  look(demoDecl());
  look(purgeDecl());
  look(htcpDecl());
  look(kafkaPurgeDecl());
  look(accessLogDecl());
  return found;
}

class Loader {
 public:
  explicit Loader(Config& config) : config_(config) {}

  std::vector<ConfigError>& errors() { return errors_; }
  const std::set<std::string>& failedPaths() const { return failed_paths_; }

  // The document as a whole could not be read: nothing else about it is worth reporting.
  void parseError(const YAML::Mark& mark, const std::string& message) {
    failed_paths_.insert("");
    errors_.push_back(ConfigError{config_.source, mark.line + 1, mark.column + 1, message});
  }

  void load(const YAML::Node& root) {
    if (!root.IsNull() && !root.IsMap()) {
      report(root, "",
             std::string("the file must hold a mapping of settings, not ") +
                 std::string(nodeKindName(root)));
      return;
    }
    loadSection(root, topLevelDecl(), "", config_);
    if (!root.IsMap()) return;
    if (auto node = root["listeners"]) {
      config_.listeners.clear();
      loadList(node, "listeners", config_.listeners,
               [&](const YAML::Node& item, const std::string& path, ListenerConfig& listener) {
                 loadSection(item, listenerDecl(), path, listener);
                 if (!item.IsMap()) return;
                 if (auto tls = item["tls"]) {
                   const std::string tls_path = path + ".tls";
                   loadSection(tls, tlsDecl(), tls_path, listener.tls);
                   if (!tls.IsMap()) return;
                   if (auto certificates = tls["certificates"]) {
                     loadList(certificates, tls_path + ".certificates", listener.tls.certificates,
                              [&](const YAML::Node& c, const std::string& c_path,
                                  CertificateConfig& certificate) {
                                loadSection(c, certificateDecl(), c_path, certificate);
                              });
                   }
                   if (listener.tls.certificates.empty()) {
                     report(tls, tls_path, "a tls section needs at least one certificate");
                   }
                 }
               });
    }
    if (auto node = root["admin"]) loadSection(node, adminDecl(), "admin", config_.admin);
    if (auto node = root["limits"]) loadSection(node, limitsDecl(), "limits", config_.limits);
    if (auto node = root["cache"]) {
      loadSection(node, cacheDecl(), "cache", config_.cache);
      if (node.IsMap()) {
        if (auto disks = node["disk"]) {
          loadList(disks, "cache.disk", config_.cache.disk,
                   [&](const YAML::Node& item, const std::string& path, DiskConfig& disk) {
                     loadSection(item, diskDecl(), path, disk);
                   });
        }
      }
    }
    if (auto node = root["demo"]) loadSection(node, demoDecl(), "demo", config_.demo);
    if (auto node = root["http2"]) loadSection(node, http2Decl(), "http2", config_.http2);
    if (auto node = root["purge"]) {
      loadSection(node, purgeDecl(), "purge", config_.purge);
      if (node.IsMap()) {
        if (auto htcp = node["htcp"]) loadSection(htcp, htcpDecl(), "purge.htcp", config_.purge.htcp);
        if (auto kafka = node["kafka"]) {
          loadSection(kafka, kafkaPurgeDecl(), "purge.kafka", config_.purge.kafka);
        }
      }
    }
    if (auto node = root["access_log"]) {
      loadSection(node, accessLogDecl(), "access_log", config_.access_log);
    }
    if (auto node = root["services"]) {
      loadList(node, "services", config_.services,
               [&](const YAML::Node& item, const std::string& path, ServiceConfig& service) {
                 loadSection(item, serviceDecl(), path, service);
                 if (!item.IsMap()) return;
                 if (auto origins = item["origins"]) {
                   loadList(
                       origins, path + ".origins", service.origins,
                       [&](const YAML::Node& o, const std::string& o_path, OriginConfig& origin) {
                         loadSection(o, originDecl(), o_path, origin);
                         if (!o.IsMap()) return;
                         if (auto tls = o["tls"]) {
                           loadSection(tls, originTlsDecl(), o_path + ".tls", origin.tls);
                         }
                       });
                 }
               });
    }
  }

 private:
  void report(const YAML::Node& node, const std::string& path, const std::string& message) {
    failed_paths_.insert(path);
    const YAML::Mark mark = node.Mark();
    errors_.push_back(ConfigError{config_.source, mark.line + 1, mark.column + 1,
                                  path.empty() ? message : path + ": " + message});
  }

  void remember(const std::string& path, const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    config_.source_map.positions[path] = SourcePosition{mark.line + 1, mark.column + 1, {}};
  }

  template <typename Item, typename LoadItem>
  void loadList(const YAML::Node& node, const std::string& path, std::vector<Item>& out,
                LoadItem load_item) {
    remember(path, node);
    if (node.IsNull()) return;
    if (!node.IsSequence()) {
      report(node, path, std::string("expected a list, got ") + std::string(nodeKindName(node)));
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      Item item;
      load_item(node[i], item_path, item);
      out.push_back(std::move(item));
    }
  }

  template <typename Section>
  void loadSection(const YAML::Node& node, const SectionDecl<Section>& decl,
                   const std::string& path, Section& out) {
    if (!path.empty()) remember(path, node);
    if (node.IsNull()) return;  // "cache:" with nothing under it: all defaults
    if (!node.IsMap()) {
      report(node, path,
             std::string("expected a mapping of settings, got ") + std::string(nodeKindName(node)));
      return;
    }
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key_node = it->first;
      const std::string key = key_node.Scalar();
      const std::string key_path = joinPath(path, key);
      if (!seen.insert(key).second) {
        report(key_node, key_path, "duplicate key (each setting may appear once)");
        continue;
      }
      const FieldDecl<Section>* field = nullptr;
      for (const auto& candidate : decl.fields) {
        if (candidate.key == key) field = &candidate;
      }
      if (field != nullptr) {
        remember(key_path, it->second);
        loadField(it->second, *field, key_path, out);
        continue;
      }
      bool is_child = false;
      for (const auto& child : decl.children) is_child = is_child || child.key == key;
      if (!is_child) report(key_node, key_path, unknownKeyMessage(key, decl));
    }
  }

  template <typename Section>
  std::string unknownKeyMessage(const std::string& key, const SectionDecl<Section>& decl) {
    std::string message = "unknown key";
    std::string_view best;
    size_t best_distance = 0;
    for (std::string_view candidate : keysOf(decl)) {
      size_t distance = detail::editDistance(key, candidate);
      if (best.empty() || distance < best_distance) {
        best = candidate;
        best_distance = distance;
      }
    }
    const size_t tolerance = std::max<size_t>(2, key.size() / 3);
    if (!best.empty() && best_distance <= tolerance) {
      return message + " (did you mean '" + std::string(best) + "'?)";
    }
    if (std::string home = sectionDeclaring(key); !home.empty() && home != decl.path) {
      return message + " ('" + key + "' belongs under '" + home + "')";
    }
    std::string known;
    for (std::string_view candidate : keysOf(decl)) {
      known += known.empty() ? "" : ", ";
      known += candidate;
    }
    return message + " (known keys: " + known + ")";
  }

  template <typename Section>
  void loadField(const YAML::Node& value, const FieldDecl<Section>& field, const std::string& path,
                 Section& out) {
    if (field.type == FieldType::kStringList) {
      loadStringList(value, path, out.*std::get<std::vector<std::string> Section::*>(field.member));
      return;
    }
    if (!value.IsScalar()) {
      report(value, path,
             "expected " + expectation(field) + ", got " + std::string(nodeKindName(value)));
      return;
    }
    const std::string text = value.Scalar();
    switch (field.type) {
      case FieldType::kString:
      case FieldType::kChoice:
        out.*std::get<std::string Section::*>(field.member) = text;
        return;
      case FieldType::kBool:
        if (equalsIgnoreCase(text, "true")) {
          out.*std::get<bool Section::*>(field.member) = true;
        } else if (equalsIgnoreCase(text, "false")) {
          out.*std::get<bool Section::*>(field.member) = false;
        } else {
          report(value, path, quoted(text) + " is not true or false");
        }
        return;
      case FieldType::kFraction: {
        char* end = nullptr;
        const double number = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(number)) {
          report(value, path, quoted(text) + " is not a number (example: 0.1)");
          return;
        }
        out.*std::get<double Section::*>(field.member) = number;
        return;
      }
      default:
        break;
    }
    std::optional<uint64_t> number;
    if (field.type == FieldType::kCount) {
      number = parseDecimal(text);
    } else if (field.type == FieldType::kSize) {
      number = parseByteSize(text);
    } else {
      number = parseDurationMillis(text);
      if (number && field.type == FieldType::kDurationS) {
        if (*number % 1000 != 0) {
          report(value, path, quoted(text) + " is not a whole number of seconds");
          return;
        }
        *number /= 1000;
      }
    }
    if (!number) {
      report(value, path, quoted(text) + " is not " + expectation(field));
      return;
    }
    storeInteger(value, field, path, *number, out);
  }

  template <typename Section>
  void storeInteger(const YAML::Node& value, const FieldDecl<Section>& field,
                    const std::string& path, uint64_t number, Section& out) {
    if (auto* narrow = std::get_if<uint32_t Section::*>(&field.member)) {
      if (number > std::numeric_limits<uint32_t>::max()) {
        report(value, path, "value " + value.Scalar() + " is too large");
        return;
      }
      out.** narrow = static_cast<uint32_t>(number);
    } else {
      out.*std::get<uint64_t Section::*>(field.member) = number;
    }
  }

  void loadStringList(const YAML::Node& value, const std::string& path,
                      std::vector<std::string>& out) {
    if (value.IsNull()) {
      out.clear();
      return;
    }
    if (!value.IsSequence()) {
      report(value, path,
             std::string("expected a list of strings, as in [a, b], got ") +
                 std::string(nodeKindName(value)));
      return;
    }
    out.clear();
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      remember(item_path, value[i]);
      if (!value[i].IsScalar()) {
        report(value[i], item_path,
               std::string("expected a string, got ") + std::string(nodeKindName(value[i])));
        continue;
      }
      out.push_back(value[i].Scalar());
    }
  }

  template <typename Section>
  static std::string expectation(const FieldDecl<Section>& field) {
    switch (field.type) {
      case FieldType::kSize:
        return "a size (examples: 256MiB, 1GiB)";
      case FieldType::kDurationMs:
      case FieldType::kDurationS:
        return "a duration (examples: 500ms, 10s, 5m, 1d)";
      case FieldType::kCount:
        return "a whole number";
      case FieldType::kBool:
        return "true or false";
      case FieldType::kFraction:
        return "a number";
      default:
        return "a string";
    }
  }

  Config& config_;
  std::vector<ConfigError> errors_;
  std::set<std::string> failed_paths_;
};

// Whether `path` is, or encloses, a setting the loader could not read.
bool coversFailedPath(const std::string& path, const std::set<std::string>& failed) {
  if (failed.contains("")) return true;  // the whole document was unreadable
  for (auto it = failed.lower_bound(path); it != failed.end() && it->starts_with(path); ++it) {
    if (it->size() == path.size() || (*it)[path.size()] == '.' || (*it)[path.size()] == '[') {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string formatError(const ConfigError& error) {
  std::string out = error.file;
  if (error.line > 0) {
    out += ":" + std::to_string(error.line);
    if (error.column > 0) out += ":" + std::to_string(error.column);
  }
  return out.empty() ? error.message : out + ": " + error.message;
}

namespace {

// Parses, applies `flags` when given, then validates once, so that flags can complete a file
// (a file without services plus --origin) and findings land on the file's lines or the flag.
LoadResult load(std::string_view yaml, const std::string& source_name, const FlagOverrides* flags) {
  LoadResult result;
  Config config;
  config.source = source_name;
  Loader loader(config);
  try {
    loader.load(YAML::Load(std::string(yaml)));
  } catch (const YAML::ParserException& e) {
    loader.parseError(e.mark, "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    loader.parseError(e.mark, "cannot read the YAML: " + e.msg);
  }
  result.errors = std::move(loader.errors());
  if (config.node_name.empty() && !config.source_map.positions.contains("node_name")) {
    config.node_name = shortHostname();
  }
  if (flags != nullptr) {
    for (ConfigError& error : applyOverrides(config, *flags)) {
      result.errors.push_back(std::move(error));
    }
  }
  std::vector<detail::Issue> issues;
  detail::validateInto(config, issues);
  for (const detail::Issue& issue : issues) {
    // A value that could not be read kept its default (or a list lost an entry): do not also
    // blame what is left.
    if (coversFailedPath(issue.path, loader.failedPaths())) continue;
    result.errors.push_back(detail::locate(config, issue));
  }
  // Report in file order; findings with no position (flags, whole-file) come last.
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     auto key = [](const ConfigError& e) {
                       return std::pair(e.line == 0 ? INT_MAX : e.line, e.column);
                     };
                     return key(a) < key(b);
                   });
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

LoadResult cannotOpen(const std::string& path) {
  LoadResult result;
  result.errors.push_back(ConfigError{path, 0, 0, "cannot open the file"});
  return result;
}

}  // namespace

LoadResult loadConfigString(std::string_view yaml, const std::string& source_name) {
  return load(yaml, source_name, nullptr);
}

LoadResult loadConfigFile(const std::string& path) {
  auto text = readFile(path);
  return text ? load(*text, path, nullptr) : cannotOpen(path);
}

LoadResult loadWithOverrides(const std::optional<std::string>& path, const FlagOverrides& flags) {
  if (!path) return load(embeddedDefaultConfig(), std::string(kEmbeddedSourceName), &flags);
  auto text = readFile(*path);
  return text ? load(*text, *path, &flags) : cannotOpen(*path);
}

std::string shortHostname() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') return "edgecache";
  std::string name(buffer);
  return name.substr(0, name.find('.'));
}

}  // namespace ec::config
