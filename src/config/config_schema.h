#pragma once
// The declarations of every config field: YAML key, type, range, unit, reload behaviour and
// the doc line, one table per section (Varnish's params.h, ATS's RecordsConfig.cc in spirit).
// The loader, the range checks in validate() and docs/user/config.md are all driven from these
// tables; the defaults come from the section structs themselves, so they cannot disagree.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace ec::config {

enum class FieldType : uint8_t {
  kString,
  kBool,
  kCount,       // a plain non-negative integer
  kSize,        // bytes: "256MiB", "1GiB", "4096"
  kDurationMs,  // stored in milliseconds: "500ms", "10s", "5m"
  kDurationS,   // stored in whole seconds: "10s", "1h", "1d"
  kFraction,    // a decimal number such as 0.1
  kStringList,
  kChoice,  // one of FieldDecl::choices
};

enum class Reload : uint8_t { kReloadable, kRestart };

inline constexpr uint64_t kNoMax = std::numeric_limits<uint64_t>::max();

template <typename Section>
struct FieldDecl {
  using Member =
      std::variant<std::string Section::*, bool Section::*, uint32_t Section::*,
                   uint64_t Section::*, double Section::*, std::vector<std::string> Section::*>;
  std::string_view key;
  FieldType type;
  Member member;
  Reload reload;
  std::string_view doc;
  // Inclusive bounds in the stored unit (bytes, milliseconds, seconds, count); for kFraction
  // the bounds are in millionths so that the table stays integral; for kString they bound the
  // length.
  uint64_t min = 0;
  uint64_t max = kNoMax;
  bool required = false;  // no usable default: the key must be present
  std::vector<std::string_view> choices;
};

// A key that holds a nested section or a list of them rather than a value.
struct ChildDecl {
  std::string_view key;
  std::string_view doc;
};

template <typename Section>
struct SectionDecl {
  std::string_view path;  // as shown in docs: "cache", "services[].origins[]"
  std::string_view doc;
  std::vector<FieldDecl<Section>> fields;
  std::vector<ChildDecl> children;
};

const SectionDecl<Config>& topLevelDecl();
const SectionDecl<ListenerConfig>& listenerDecl();
const SectionDecl<TlsConfig>& tlsDecl();
const SectionDecl<CertificateConfig>& certificateDecl();
const SectionDecl<AdminConfig>& adminDecl();
const SectionDecl<LimitsConfig>& limitsDecl();
const SectionDecl<CacheConfig>& cacheDecl();
const SectionDecl<DiskConfig>& diskDecl();
const SectionDecl<ServiceConfig>& serviceDecl();
const SectionDecl<OriginConfig>& originDecl();
const SectionDecl<OriginTlsConfig>& originTlsDecl();
const SectionDecl<Http2Config>& http2Decl();
const SectionDecl<DemoConfig>& demoDecl();
const SectionDecl<PurgeConfig>& purgeDecl();
const SectionDecl<HtcpConfig>& htcpDecl();
const SectionDecl<KafkaPurgeConfig>& kafkaPurgeDecl();
const SectionDecl<AccessLogConfig>& accessLogDecl();

// Canonical renderings of stored values, used in docs and error messages: 268435456 -> "256MiB",
// 86400000 ms -> "1d", 1500 ms -> "1500ms".
std::string formatSize(uint64_t bytes);
std::string formatDurationMillis(uint64_t millis);

// Renders the value of one field of `section` as a config would spell it.
template <typename Section>
std::string formatFieldValue(const FieldDecl<Section>& field, const Section& section);
// Renders a bound (FieldDecl::min/max) in the field's unit.
std::string formatBound(FieldType type, uint64_t bound);
// Short type name for docs and messages: "size", "duration", "list of strings"...
std::string_view fieldTypeName(FieldType type);

}  // namespace ec::config

#include "config/config_schema_inl.h"
