#pragma once
// The validated configuration of one edgecache node: one typed struct per section with its
// defaults, the loader (YAML file or string -> Config, every error with file:line:column),
// cross-field validation and the quick-start flag overrides. Rooms receive these structs,
// never YAML nodes. The per-field declarations (key, type, range, unit, doc) live in
// config_schema.h and drive both the loader and docs/user/config.md.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec::config {

// One certificate of a TLS listener: a PEM file with the leaf first and its chain after it,
// and the PEM private key. ECDSA and RSA certificates for the same names sit side by side.
struct CertificateConfig {
  std::string cert;
  std::string key;
  bool operator==(const CertificateConfig&) const = default;
};

// TLS on a listener (wikimedia-traffic.md §9 for the defaults). Present when `certificates`
// is not empty; the first certificate is the default for clients without a matching SNI.
struct TlsConfig {
  std::vector<CertificateConfig> certificates;
  std::string min_version = "TLSv1.2";
  std::string max_version = "TLSv1.3";
  // TLS 1.2: ECDHE-ECDSA and ECDHE-RSA with AES-GCM or CHACHA20-POLY1305 only.
  std::string ciphers =
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256";
  std::string ciphersuites =
      "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";
  std::string groups = "X25519:P-256";
  std::vector<std::string> alpn = {"h2", "http/1.1"};
  uint32_t session_cache_size = 20480;
  uint64_t session_lifetime_s = 86400;
  // false: no session tickets at all (TLS 1.2 or 1.3). With session_cache_size 0 as well,
  // every handshake is a full one and none pays for encrypting a ticket nobody will use.
  bool session_tickets = true;
  // Session-ticket keys shared by a cluster: 80-byte keys back to back (16 name, 32 HMAC,
  // 32 AES, as nginx's ssl_session_ticket_key); the first encrypts, all decrypt. Empty: keys
  // are random per process.
  std::string ticket_key_file;
  bool enabled() const { return !certificates.empty(); }
  bool operator==(const TlsConfig&) const = default;
};

struct ListenerConfig {
  std::string address = "127.0.0.1:8080";  // "host:port", IPv6 as "[::1]:8080"
  TlsConfig tls;
  bool operator==(const ListenerConfig&) const = default;
};

struct AdminConfig {
  std::string address = "127.0.0.1:9090";
  std::vector<std::string> allow = {"127.0.0.1/32", "::1/128"};  // CIDRs allowed to reach admin
  bool operator==(const AdminConfig&) const = default;
};

struct LimitsConfig {
  uint64_t max_request_line = 8192;
  uint64_t max_field_size = 8192;
  uint64_t max_fields = 100;
  uint64_t max_header_bytes = 65536;
  uint64_t max_request_body = uint64_t{1} << 30;
  uint32_t max_connections = 10000;
  uint64_t header_timeout_ms = 10000;
  uint64_t idle_timeout_ms = 60000;
  uint64_t send_timeout_ms = 60000;
  uint64_t min_send_rate = 240;  // bytes per second while an answer waits (0: any byte)
  uint64_t body_timeout_ms = 20000;
  uint64_t min_body_rate = 240;  // bytes per second while a request body is awaited (0: any byte)
  uint64_t drain_timeout_ms = 30000;
  uint32_t max_ranges = 64;
  bool operator==(const LimitsConfig&) const = default;
};

// One disk-tier store file (or block device), preallocated to `size`.
struct DiskConfig {
  std::string path;
  uint64_t size = 0;
  std::string checkpoint;  // index checkpoint file; empty: `<path>.index` (none for a device)
  bool operator==(const DiskConfig&) const = default;
};

struct CacheConfig {
  uint64_t memory_size = uint64_t{256} << 20;
  uint64_t max_object_size = uint64_t{64} << 20;
  uint64_t ttl_cap_s = 86400;
  uint64_t default_ttl_s = 0;
  double heuristic_fraction = 0.1;
  uint64_t heuristic_cap_s = 86400;
  bool cache_set_cookie = false;
  bool honor_request_no_cache = true;
  bool honor_request_max_age = true;
  uint64_t hit_for_pass_s = 601;
  uint64_t grace_s = 0;
  std::string eviction = "s3fifo";  // or "lru"
  uint32_t shards = 16;
  // The disk tier: none by default (memory only).
  std::vector<DiskConfig> disk;
  uint64_t disk_max_object_size = uint64_t{1} << 30;
  uint64_t disk_sync_interval_ms = 5000;
  uint64_t disk_checkpoint_interval_ms = 60000;
  bool disk_zero_copy = true;
  std::string memory_admission = "exponential";  // or "all"
  uint64_t memory_admission_scale = uint64_t{1} << 20;
  bool operator==(const CacheConfig&) const = default;
};

// TLS toward one origin (client side). Absent or enabled: false means plain HTTP.
struct OriginTlsConfig {
  bool enabled = false;
  std::string ca_file;      // PEM bundle of trusted CAs; "" = the system bundle
  bool verify = true;       // verify the chain and the name; off only for tests and labs
  std::string sni;          // server name sent and verified; "" = the host of `address`
  std::string min_version = "TLSv1.2";
  std::string max_version = "TLSv1.3";
  std::string cert;         // optional client certificate (PEM chain) ...
  std::string key;          // ... and its private key
  bool operator==(const OriginTlsConfig&) const = default;
};

struct OriginConfig {
  std::string address;  // "host:port"; the host may be a name, resolved at start-up
  uint64_t connect_timeout_ms = 3000;
  uint64_t first_byte_timeout_ms = 60000;
  uint64_t between_bytes_timeout_ms = 30000;
  uint32_t max_connections = 256;
  OriginTlsConfig tls;
  bool operator==(const OriginConfig&) const = default;
};

struct ServiceConfig {
  std::string name;
  std::vector<std::string> hosts;  // "en.wiki.test", "*.wiki.test" or "*"; lowercase
  std::vector<OriginConfig> origins;
  bool https_redirect = false;       // plain-HTTP requests: 301 (GET/HEAD) or 403 to https
  uint64_t hsts_max_age_s = 0;       // Strict-Transport-Security on HTTPS answers; 0 = none
  bool hsts_include_subdomains = false;
  bool hsts_preload = false;
  // When the origin sends its own Strict-Transport-Security: "origin" keeps it (and adds
  // none), "config" replaces it with the configured one.
  std::string hsts_source = "origin";
  // The port in https_redirect's Location: 0 = the first TLS listener's port (omitted when
  // 443); otherwise this port (omitted when 443), e.g. behind a load balancer.
  uint32_t https_port = 0;
  bool operator==(const ServiceConfig&) const = default;
};

struct AccessLogConfig {
  bool enabled = true;
  std::string path = "-";  // a file, appended to and reopened on SIGUSR1; "-" = stdout; "" = none
  uint64_t queue_size = uint64_t{1} << 20;  // bytes, per worker
  uint64_t flush_interval_ms = 100;
  bool log_purges = false;
  std::string kafka_brokers;  // "" = no Kafka
  std::string kafka_topic = "webrequest_text";
  std::vector<std::string> kafka_properties;  // librdkafka "key=value"
  bool operator==(const AccessLogConfig&) const = default;
};

struct DemoConfig {
  bool enabled = false;
  std::string address = "127.0.0.1:8000";
  bool operator==(const DemoConfig&) const = default;
};

struct HtcpConfig {
  std::string address;              // "0.0.0.0:4827"; empty: no HTCP listener
  std::vector<std::string> groups;  // multicast groups to join, e.g. "239.128.0.112"
  std::string interface = "0.0.0.0";  // local IPv4 address of the interface to join them on
  std::vector<std::string> allow = {"0.0.0.0/0", "::/0"};  // CIDRs whose packets are accepted
  std::vector<std::string> sequential_sources;  // CIDRs of senders with sequential ids
  bool operator==(const HtcpConfig&) const = default;
};

struct KafkaPurgeConfig {
  std::string brokers;              // "host:port,host:port"; empty: no Kafka consumer
  std::vector<std::string> topics;  // e.g. eqiad.resource-purge, codfw.resource-purge
  std::string group_id;             // default: node_name
  uint64_t max_age_s = 0;           // 0: no age limit
  std::vector<std::string> properties;  // extra librdkafka "key=value" settings
  bool operator==(const KafkaPurgeConfig&) const = default;
};

struct PurgeConfig {
  std::vector<std::string> allow = {"127.0.0.1/32", "::1/128"};  // HTTP PURGE sources
  std::string host_regex;  // hosts cached here; empty: every host
  HtcpConfig htcp;
  KafkaPurgeConfig kafka;
  bool operator==(const PurgeConfig&) const = default;
};

// Where each setting came from, keyed by its path ("services[0].origins[1].address"), so that
// validate() can point at the line that is wrong. Positions are not part of the config's value:
// two configs that differ only in where they were read from compare equal.
struct SourcePosition {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  std::string file;  // set when the value came from elsewhere than Config::source ("--listen")
};
struct SourceMap {
  std::map<std::string, SourcePosition, std::less<>> positions;
  // The position of `path`, or of its nearest enclosing entry ("services[0].name" falls back to
  // "services[0]" when the key is missing); {} when nothing encloses it.
  SourcePosition find(std::string_view path) const;
  // Forgets `path` and everything under it, and records `origin` in its place.
  void replace(const std::string& path, SourcePosition origin);
  friend bool operator==(const SourceMap&, const SourceMap&) { return true; }
};

// HTTP/2 on TLS listeners (ALPN h2): what a connection advertises and the flood budgets
// (token buckets: a burst, then a refill per second) whose overrun ends it with GOAWAY
// ENHANCE_YOUR_CALM.
struct Http2Config {
  uint32_t max_concurrent_streams = 100;
  uint64_t initial_window_size = 65535;
  uint64_t header_table_size = 4096;
  uint64_t max_header_list_size = 65536;
  uint32_t max_continuations = 16;
  uint32_t reset_burst = 200;
  uint32_t reset_rate = 100;
  uint32_t ping_burst = 50;
  uint32_t ping_rate = 10;
  uint32_t settings_burst = 50;
  uint32_t settings_rate = 10;
  uint32_t empty_data_burst = 200;
  uint32_t empty_data_rate = 100;
  uint32_t window_update_burst = 1000;
  uint32_t window_update_rate = 500;
  uint64_t max_response_buffer = 1 << 20;
  bool operator==(const Http2Config&) const = default;
};

struct Config {
  std::string node_name;  // default: the short hostname
  uint32_t workers = 0;   // 0 = one per core
  std::vector<ListenerConfig> listeners;
  AdminConfig admin;
  LimitsConfig limits;
  CacheConfig cache;
  std::vector<ServiceConfig> services;
  Http2Config http2;
  DemoConfig demo;
  PurgeConfig purge;
  AccessLogConfig access_log;
  std::string source;  // file path, or "<embedded>", or "<flags>"
  SourceMap source_map;
  bool operator==(const Config&) const = default;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when not applicable
  int column = 0;
  std::string message;
};

// "file:line:column: message" (the position is left out when unknown).
std::string formatError(const ConfigError& error);

struct LoadResult {
  std::optional<Config> config;  // set only when there are no errors
  std::vector<ConfigError> errors;
};

// Loads and validates; on failure returns every error found, not only the first.
LoadResult loadConfigFile(const std::string& path);
LoadResult loadConfigString(std::string_view yaml, const std::string& source_name);

// The built-in default (deploy/edgecache.yaml, compiled in): listen 127.0.0.1:8080, admin
// 127.0.0.1:9090, the demo origin on 127.0.0.1:8000 and one service "demo" for every host.
std::string_view embeddedDefaultConfig();
inline constexpr std::string_view kEmbeddedSourceName = "<embedded>";

// Markdown for docs/user/config.md, generated from the field declarations.
std::string renderConfigDocs();

// Quick-start flags, as varnishd's -a/-b. Keep these names: operators script them.
struct FlagOverrides {
  std::vector<std::string> listen;    // --listen, repeatable; replaces the configured listeners
  std::optional<std::string> origin;  // --origin: one service "default", hosts ["*"]; demo off
  std::optional<std::string> memory;  // --memory 256MiB
  std::optional<std::string> admin;   // --admin ADDR:PORT
  std::optional<std::string> name;    // --name NODE
  std::optional<uint32_t> workers;    // --workers N
};

// Applies the flags on top of `config` (flags win over the file) and returns the errors in
// them; call validate() afterwards, as the flags may make the whole inconsistent.
std::vector<ConfigError> applyOverrides(Config& config, const FlagOverrides& flags);

// What the command line needs: reads `path` (the embedded default when nullopt), applies the
// flags, then validates once. Unlike load-then-override, a file may rely on the flags to be
// complete (no services in the file, --origin on the command line), and every error is
// reported, those of the file at their line and those of the flags under the flag's name.
LoadResult loadWithOverrides(const std::optional<std::string>& path, const FlagOverrides& flags);

// Cross-field checks: at least one listener, every address parses, services non-empty, valid
// and unambiguous host patterns, no duplicate names or listen addresses, ranges.
std::vector<ConfigError> validate(const Config& config);

// Paths of the restart-only settings that differ between `running` and `next`: a reload
// applies the rest and logs these as ignored until restart.
std::vector<std::string> restartOnlyChanges(const Config& running, const Config& next);

// The host name up to its first dot, used as the default node name.
std::string shortHostname();

}  // namespace ec::config
