#include <gtest/gtest.h>

#include <fstream>

#include "config/config.h"

namespace ec::config {
namespace {

// The smallest valid file: one listener and one service.
constexpr std::string_view kMinimal = R"(listeners:
  - address: 127.0.0.1:8080
services:
  - name: www
    hosts: [www.example.org]
    origins:
      - address: 10.0.0.1:80
)";

std::vector<std::string> formatted(const LoadResult& result) {
  std::vector<std::string> out;
  for (const ConfigError& error : result.errors) out.push_back(formatError(error));
  return out;
}

// Loads `yaml` expecting failure and returns the formatted errors.
std::vector<std::string> errorsOf(std::string_view yaml) {
  LoadResult result = loadConfigString(yaml, "edgecache.yaml");
  EXPECT_FALSE(result.config.has_value());
  return formatted(result);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

TEST(ConfigLoaderTest, MinimalFileGetsDefaultsEverywhereElse) {
  LoadResult result = loadConfigString(kMinimal, "min.yaml");
  ASSERT_TRUE(result.config) << joined(formatted(result));
  const Config& config = *result.config;
  EXPECT_EQ(config.source, "min.yaml");
  EXPECT_EQ(config.node_name, shortHostname());
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].address, "127.0.0.1:8080");
  EXPECT_EQ(config.admin, AdminConfig{});
  EXPECT_EQ(config.limits, LimitsConfig{});
  EXPECT_EQ(config.cache, CacheConfig{});
  EXPECT_EQ(config.demo, DemoConfig{});
  ASSERT_EQ(config.services.size(), 1u);
  EXPECT_EQ(config.services[0].name, "www");
  EXPECT_EQ(config.services[0].hosts, std::vector<std::string>{"www.example.org"});
  ASSERT_EQ(config.services[0].origins.size(), 1u);
  EXPECT_EQ(config.services[0].origins[0].address, "10.0.0.1:80");
  EXPECT_EQ(config.services[0].origins[0].connect_timeout_ms, 3000u);
  EXPECT_EQ(config.services[0].origins[0].max_connections, 256u);
}

TEST(ConfigLoaderTest, ReadsEveryUnitForm) {
  LoadResult result = loadConfigString(std::string(kMinimal) + R"(node_name: cp1001
workers: 3
limits:
  max_request_line: 4KiB
  header_timeout: 500ms
  idle_timeout: 2m
cache:
  memory_size: 1GiB
  max_object_size: 1048576
  ttl_cap: 2h
  default_ttl: 30
  heuristic_fraction: 0.25
  cache_set_cookie: true
  eviction: lru
)",
                                       "units.yaml");
  ASSERT_TRUE(result.config) << joined(formatted(result));
  const Config& config = *result.config;
  EXPECT_EQ(config.node_name, "cp1001");
  EXPECT_EQ(config.workers, 3u);
  EXPECT_EQ(config.limits.max_request_line, 4096u);
  EXPECT_EQ(config.limits.header_timeout_ms, 500u);
  EXPECT_EQ(config.limits.idle_timeout_ms, 120000u);
  EXPECT_EQ(config.cache.memory_size, uint64_t{1} << 30);
  EXPECT_EQ(config.cache.max_object_size, 1048576u);
  EXPECT_EQ(config.cache.ttl_cap_s, 7200u);
  EXPECT_EQ(config.cache.default_ttl_s, 30u);  // a plain number is seconds
  EXPECT_DOUBLE_EQ(config.cache.heuristic_fraction, 0.25);
  EXPECT_TRUE(config.cache.cache_set_cookie);
  EXPECT_EQ(config.cache.eviction, "lru");
}

TEST(ConfigLoaderTest, BadSizeIsReportedAtItsLineAndColumn) {
  // memory_size's value sits on line 10, column 16.
  auto errors = errorsOf(std::string(kMinimal) + "cache:\n  memory_size: 12 parsecs\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0],
            "edgecache.yaml:9:16: cache.memory_size: \"12 parsecs\" is not a size (examples: "
            "256MiB, 1GiB)");
}

TEST(ConfigLoaderTest, ReportsEveryErrorNotOnlyTheFirst) {
  auto errors = errorsOf(R"(listeners:
  - address: 127.0.0.1
cache:
  memory_size: lots
  shards: many
  eviction: fifo
limits:
  idle_timeout: forever
services: []
)");
  EXPECT_EQ(joined(errors),
            "edgecache.yaml:2:14: listeners[0].address: \"127.0.0.1\": missing ':port' "
            "(expected host:port)\n"
            "edgecache.yaml:4:16: cache.memory_size: \"lots\" is not a size (examples: 256MiB, "
            "1GiB)\n"
            "edgecache.yaml:5:11: cache.shards: \"many\" is not a whole number\n"
            "edgecache.yaml:6:13: cache.eviction: \"fifo\" is not one of: s3fifo, lru\n"
            "edgecache.yaml:8:17: limits.idle_timeout: \"forever\" is not a duration (examples: "
            "500ms, 10s, 5m, 1d)\n"
            "edgecache.yaml:9:11: services: at least one service is required\n");
}

TEST(ConfigLoaderTest, UnknownKeySuggestsTheClosestKnownOne) {
  auto errors = errorsOf(std::string(kMinimal) + "cache:\n  memry_size: 1GiB\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0],
            "edgecache.yaml:9:3: cache.memry_size: unknown key (did you mean 'memory_size'?)");
}

TEST(ConfigLoaderTest, UnknownKeyWithUnitSuffixPointsAtTheUnitlessKey) {
  auto errors = errorsOf(std::string(kMinimal) + "limits:\n  header_timeout_ms: 10000\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0],
            "edgecache.yaml:9:3: limits.header_timeout_ms: unknown key (did you mean "
            "'header_timeout'?)");
}

TEST(ConfigLoaderTest, KeyInTheWrongSectionNamesItsSection) {
  auto errors = errorsOf(std::string(kMinimal) + "memory_size: 1GiB\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0],
            "edgecache.yaml:8:1: memory_size: unknown key ('memory_size' belongs "
            "under 'cache')");
}

TEST(ConfigLoaderTest, UnknownKeyFarFromAnyListsTheKnownKeys) {
  auto errors = errorsOf(std::string(kMinimal) + "demo:\n  zzzzzzzz: 1\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0],
            "edgecache.yaml:9:3: demo.zzzzzzzz: unknown key (known keys: enabled, address)");
}

TEST(ConfigLoaderTest, DuplicateKeyIsAnError) {
  auto errors = errorsOf(std::string(kMinimal) + "workers: 2\nworkers: 4\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0], "edgecache.yaml:9:1: workers: duplicate key (each setting may appear once)");
}

TEST(ConfigLoaderTest, YamlSyntaxErrorHasAPosition) {
  auto errors = errorsOf("listeners:\n  - address: [127.0.0.1:8080\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);  // not also "at least one listener..."
  EXPECT_TRUE(errors[0].starts_with("edgecache.yaml:3:1: YAML syntax error: ")) << errors[0];
}

TEST(ConfigLoaderTest, DocumentThatIsNotAMappingIsOneError) {
  auto errors = errorsOf("just a string\n");
  EXPECT_EQ(joined(errors),
            "edgecache.yaml:1:1: the file must hold a mapping of settings, not a single value\n");
}

TEST(ConfigLoaderTest, WrongNodeKindsAreExplained) {
  auto errors = errorsOf(R"(listeners: 127.0.0.1:8080
admin:
  allow: 127.0.0.1/32
cache: [1, 2]
workers: {a: 1}
services:
  - name: [x]
    hosts: [[a]]
    origins:
      - address: 10.0.0.1:80
)");
  EXPECT_EQ(joined(errors),
            "edgecache.yaml:1:12: listeners: expected a list, got a single value\n"
            "edgecache.yaml:3:10: admin.allow: expected a list of strings, as in [a, b], got a "
            "single value\n"
            "edgecache.yaml:4:8: cache: expected a mapping of settings, got a list\n"
            "edgecache.yaml:5:10: workers: expected a whole number, got a mapping\n"
            "edgecache.yaml:7:11: services[0].name: expected a string, got a list\n"
            "edgecache.yaml:8:13: services[0].hosts[0]: expected a string, got a list\n");
}

TEST(ConfigLoaderTest, MissingRequiredKeysPointAtTheirEntry) {
  auto errors = errorsOf(R"(listeners:
  - address: 127.0.0.1:8080
services:
  - hosts: ["*"]
    origins:
      - connect_timeout: 1s
)");
  EXPECT_EQ(joined(errors),
            "edgecache.yaml:4:5: services[0].name: is required\n"
            "edgecache.yaml:6:9: services[0].origins[0].address: is required\n");
}

TEST(ConfigLoaderTest, RangeErrorsNameTheBoundInTheFieldsUnit) {
  auto errors = errorsOf(std::string(kMinimal) + R"(cache:
  memory_size: 512KiB
  ttl_cap: 400d
  heuristic_fraction: 1.5
workers: 5000
)");
  EXPECT_EQ(joined(errors),
            // max_object_size is not in the file: its error points at the section.
            "edgecache.yaml:9:3: cache.max_object_size: is larger than cache.memory_size "
            "(512KiB)\n"
            "edgecache.yaml:9:16: cache.memory_size: 512KiB is below the minimum 1MiB\n"
            "edgecache.yaml:10:12: cache.ttl_cap: 400d is above the maximum 365d\n"
            "edgecache.yaml:11:23: cache.heuristic_fraction: must be between 0 and 1\n"
            "edgecache.yaml:12:10: workers: 5000 is above the maximum 1024\n");
}

TEST(ConfigLoaderTest, DurationInSecondsRefusesFractions) {
  auto errors = errorsOf(std::string(kMinimal) + "cache:\n  grace: 1500ms\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0],
            "edgecache.yaml:9:10: cache.grace: \"1500ms\" is not a whole number of "
            "seconds");
}

TEST(ConfigLoaderTest, BoolsAreStrict) {
  auto errors = errorsOf(std::string(kMinimal) + "demo:\n  enabled: yes\n");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0], "edgecache.yaml:9:12: demo.enabled: \"yes\" is not true or false");
}

TEST(ConfigLoaderTest, CrossFieldChecks) {
  auto errors = errorsOf(R"(node_name: "cp 1001"
listeners:
  - address: 127.0.0.1:8080
  - address: 127.0.0.1:8080
  - address: localhost:8081
admin:
  address: 127.0.0.1:8080
  allow: [10.0.0.0/33, nonsense]
limits:
  max_field_size: 128KiB
services:
  - name: a
    hosts: ["*.wiki.test", "EN.wiki.test", "a*.wiki.test"]
    origins: []
  - name: a
    hosts: ["*.wiki.test", "en.wiki.test:80"]
    origins:
      - address: "[::1]8000"
)");
  EXPECT_EQ(joined(errors),
            "edgecache.yaml:1:12: node_name: \"cp 1001\" may hold only letters, digits, '-', '_' "
            "and '.'\n"
            "edgecache.yaml:4:14: listeners[1].address: same address as listeners[0].address\n"
            "edgecache.yaml:5:14: listeners[2].address: \"localhost:8081\": must be an IP "
            "address, as in 127.0.0.1:8080 or [::1]:8080\n"
            "edgecache.yaml:7:12: admin.address: same address as listeners[0].address\n"
            "edgecache.yaml:8:11: admin.allow[0]: \"10.0.0.0/33\": prefix length /33 is longer "
            "than /32\n"
            "edgecache.yaml:8:24: admin.allow[1]: \"nonsense\": 'nonsense' is not an IPv4 or "
            "IPv6 address\n"
            "edgecache.yaml:10:19: limits.max_field_size: is larger than limits.max_header_bytes "
            "(64KiB)\n"
            "edgecache.yaml:13:28: services[0].hosts[1]: \"EN.wiki.test\": host patterns are "
            "lowercase\n"
            "edgecache.yaml:13:44: services[0].hosts[2]: \"a*.wiki.test\": a wildcard is allowed "
            "only as the whole first label, as in *.example.org\n"
            "edgecache.yaml:14:14: services[0].origins: at least one origin is required\n"
            "edgecache.yaml:15:11: services[1].name: \"a\" is already the name of services[0]\n"
            "edgecache.yaml:16:13: services[1].hosts[0]: \"*.wiki.test\" is already matched by "
            "services[0].hosts[0] (a host must lead to one service)\n"
            "edgecache.yaml:16:28: services[1].hosts[1]: \"en.wiki.test:80\": host patterns "
            "carry no port\n"
            "edgecache.yaml:18:18: services[1].origins[0].address: \"[::1]8000\": missing "
            "':port' after ']'\n");
}

TEST(ConfigLoaderTest, EmptyFileNeedsListenersAndServices) {
  auto errors = errorsOf("");
  EXPECT_EQ(joined(errors),
            "edgecache.yaml: listeners: at least one listener is required\n"
            "edgecache.yaml: services: at least one service is required\n");
}

TEST(ConfigLoaderTest, MissingFileIsOneError) {
  LoadResult result = loadConfigFile("/nonexistent/edgecache.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(formatError(result.errors[0]), "/nonexistent/edgecache.yaml: cannot open the file");
}

TEST(ConfigLoaderTest, LoadsFromAFile) {
  const std::string path = testing::TempDir() + "config_loader_test.yaml";
  {
    std::ofstream file(path);
    file << kMinimal << "cache:\n  memory_size: 12 parsecs\n";
  }
  LoadResult result = loadConfigFile(path);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(formatError(result.errors[0]),
            path +
                ":9:16: cache.memory_size: \"12 parsecs\" is not a size (examples: 256MiB, "
                "1GiB)");
}

TEST(ConfigLoaderTest, EmbeddedDefaultParsesAndValidates) {
  LoadResult result = loadConfigString(embeddedDefaultConfig(), std::string(kEmbeddedSourceName));
  ASSERT_TRUE(result.config) << joined(formatted(result));
  const Config& config = *result.config;
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].address, "127.0.0.1:8080");
  EXPECT_EQ(config.admin.address, "127.0.0.1:9090");
  EXPECT_TRUE(config.demo.enabled);
  EXPECT_EQ(config.demo.address, "127.0.0.1:8000");
  ASSERT_EQ(config.services.size(), 1u);
  EXPECT_EQ(config.services[0].name, "demo");
  EXPECT_EQ(config.services[0].hosts, std::vector<std::string>{"*"});
  ASSERT_EQ(config.services[0].origins.size(), 1u);
  EXPECT_EQ(config.services[0].origins[0].address, "127.0.0.1:8000");
  // The commented values in the file are the struct defaults, not different ones.
  EXPECT_EQ(config.limits, LimitsConfig{});
  EXPECT_EQ(config.cache, CacheConfig{});
  EXPECT_EQ(config.admin, AdminConfig{});
  EXPECT_EQ(config.services[0].origins[0].connect_timeout_ms, OriginConfig{}.connect_timeout_ms);
}

TEST(ConfigLoaderTest, DeployExampleIsTheEmbeddedDefault) {
  LoadResult from_file = loadConfigFile(std::string(EC_SOURCE_DIR) + "/deploy/edgecache.yaml");
  LoadResult embedded = loadConfigString(embeddedDefaultConfig(), "<embedded>");
  ASSERT_TRUE(from_file.config) << joined(formatted(from_file));
  ASSERT_TRUE(embedded.config);
  Config file_config = *from_file.config;
  file_config.source = embedded.config->source;
  EXPECT_EQ(file_config, *embedded.config);
}

TEST(ConfigLoaderTest, TlsListenerIsReadWithItsCertificatesAndDefaults) {
  LoadResult result = loadConfigString(R"(listeners:
  - address: 127.0.0.1:8443
    tls:
      certificates:
        - {cert: /etc/ec/a.pem, key: /etc/ec/a.key}
        - cert: /etc/ec/b.pem
          key: /etc/ec/b.key
      min_version: TLSv1.3
      session_tickets: false
services:
  - name: www
    hosts: [www.example.org]
    https_redirect: true
    hsts_max_age: 365d
    origins:
      - address: 10.0.0.1:80
)", "tls.yaml");
  ASSERT_TRUE(result.config.has_value()) << joined(formatted(result));
  const TlsConfig& tls = result.config->listeners[0].tls;
  ASSERT_EQ(tls.certificates.size(), 2u);
  EXPECT_EQ(tls.certificates[1].key, "/etc/ec/b.key");
  EXPECT_EQ(tls.min_version, "TLSv1.3");
  EXPECT_EQ(tls.max_version, "TLSv1.3");
  EXPECT_EQ(tls.groups, "X25519:P-256");
  EXPECT_FALSE(tls.session_tickets);
  EXPECT_TRUE(TlsConfig{}.session_tickets);
  EXPECT_TRUE(tls.enabled());
  EXPECT_TRUE(result.config->services[0].https_redirect);
  EXPECT_EQ(result.config->services[0].hsts_max_age_s, 365u * 86400u);
}

TEST(ConfigLoaderTest, TlsMistakesAreReportedAtTheirLines) {
  const std::string errors = joined(errorsOf(R"(listeners:
  - address: 127.0.0.1:8443
    tls:
      certificates:
        - {cert: /etc/ec/a.pem}
      min_version: TLSv1.3
      max_version: TLSv1.2
      alpn: [spdy/3]
      cipher: DEFAULT
  - address: 127.0.0.1:8444
    tls:
      min_version: TLSv1.0
services:
  - name: www
    hosts: [www.example.org]
    origins:
      - address: 10.0.0.1:80
)"));
  EXPECT_NE(errors.find("edgecache.yaml:5:11: listeners[0].tls.certificates[0].key: is required"),
            std::string::npos) << errors;
  EXPECT_NE(errors.find("listeners[0].tls.min_version: is newer than max_version"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("\"spdy/3\" is not a supported protocol"), std::string::npos) << errors;
  EXPECT_NE(errors.find("listeners[0].tls.cipher: unknown key (did you mean 'ciphers'?)"),
            std::string::npos) << errors;
  EXPECT_NE(errors.find("listeners[1].tls: a tls section needs at least one certificate"),
            std::string::npos) << errors;
  EXPECT_NE(errors.find("listeners[1].tls.min_version"), std::string::npos) << errors;
}

}  // namespace
}  // namespace ec::config

namespace ec::config {
namespace {

TEST(ConfigLoaderIssue5Test, OriginTlsSectionIsReadAndChecked) {
  LoadResult result = loadConfigString(R"(listeners:
  - address: 127.0.0.1:8080
services:
  - name: www
    hosts: [www.example.org]
    origins:
      - address: 10.0.0.1:443
        tls: {enabled: true, ca_file: /etc/ca.pem, sni: app.example.org, verify: false,
              min_version: TLSv1.3}
      - address: 10.0.0.2:80
)", "t.yaml");
  ASSERT_TRUE(result.config.has_value()) << joined(formatted(result));
  const OriginTlsConfig& tls = result.config->services[0].origins[0].tls;
  EXPECT_TRUE(tls.enabled);
  EXPECT_EQ(tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(tls.sni, "app.example.org");
  EXPECT_FALSE(tls.verify);
  EXPECT_EQ(tls.min_version, "TLSv1.3");
  EXPECT_EQ(tls.max_version, "TLSv1.3");
  EXPECT_FALSE(result.config->services[0].origins[1].tls.enabled);

  const std::string errors = joined(errorsOf(R"(listeners:
  - address: 127.0.0.1:8080
services:
  - name: www
    hosts: [www.example.org]
    origins:
      - address: 10.0.0.1:443
        tls: {enabled: true, min_version: TLSv1.3, max_version: TLSv1.2, key: /k.pem}
)"));
  EXPECT_NE(errors.find("services[0].origins[0].tls.min_version: is newer than max_version"),
            std::string::npos) << errors;
  EXPECT_NE(errors.find("services[0].origins[0].tls.cert: a client certificate needs both"),
            std::string::npos) << errors;
  const std::string typo = joined(errorsOf(R"(listeners:
  - address: 127.0.0.1:8080
services:
  - name: www
    hosts: [www.example.org]
    origins:
      - address: 10.0.0.1:443
        tls: {enabled: true, min_verison: TLSv1.2}
)"));
  EXPECT_NE(typo.find("min_verison"), std::string::npos) << typo;
  EXPECT_NE(typo.find("min_version"), std::string::npos) << typo;
}

TEST(ConfigLoaderIssue5Test, Http2SectionAndHstsKeys) {
  std::string yaml(kMinimal);
  yaml += R"(http2:
  max_concurrent_streams: 50
  initial_window_size: 1MiB
  max_header_list_size: 32KiB
  reset_burst: 10
)";
  LoadResult result = loadConfigString(yaml, "t.yaml");
  ASSERT_TRUE(result.config.has_value()) << joined(formatted(result));
  EXPECT_EQ(result.config->http2.max_concurrent_streams, 50u);
  EXPECT_EQ(result.config->http2.initial_window_size, uint64_t{1} << 20);
  EXPECT_EQ(result.config->http2.max_header_list_size, 32u * 1024);
  EXPECT_EQ(result.config->http2.reset_burst, 10u);
  EXPECT_EQ(result.config->http2.header_table_size, 4096u);
  EXPECT_EQ(result.config->services[0].hsts_source, "origin");
  EXPECT_EQ(result.config->services[0].https_port, 0u);

  std::string bad(kMinimal);
  bad += "http2:\n  max_concurrent_streams: 0\n  initial_window_size: 4GiB\n";
  const std::string errors = joined(errorsOf(bad));
  EXPECT_NE(errors.find("http2.max_concurrent_streams: 0 is below the minimum 1"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("http2.initial_window_size"), std::string::npos) << errors;
}

}  // namespace
}  // namespace ec::config
