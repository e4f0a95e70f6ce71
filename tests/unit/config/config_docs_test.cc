#include <gtest/gtest.h>

#include "config/config.h"
#include "config/config_schema.h"

namespace ec::config {
namespace {

TEST(ConfigDocsTest, EveryDeclaredKeyIsDocumentedWithItsDefault) {
  const std::string docs = renderConfigDocs();
  EXPECT_NE(docs.find("| `memory_size` | size | `256MiB` | 1MiB – 1TiB | restart |"),
            std::string::npos)
      << docs;
  EXPECT_NE(docs.find("| `header_timeout` | duration | `10s` | 100ms – 1h | reload |"),
            std::string::npos);
  EXPECT_NE(docs.find("| `eviction` | choice | `s3fifo` | `s3fifo`, `lru` | restart |"),
            std::string::npos);
  EXPECT_NE(docs.find("| `address` | string | *(required)* |"), std::string::npos);
  EXPECT_NE(docs.find("| `allow` | list of strings | `[127.0.0.1/32, ::1/128]` |"),
            std::string::npos);
  auto all_keys_present = [&](const auto& decl) {
    for (const auto& field : decl.fields) {
      EXPECT_NE(docs.find("| `" + std::string(field.key) + "` |"), std::string::npos)
          << decl.path << "." << field.key;
    }
  };
  all_keys_present(topLevelDecl());
  all_keys_present(listenerDecl());
  all_keys_present(adminDecl());
  all_keys_present(limitsDecl());
  all_keys_present(cacheDecl());
  all_keys_present(serviceDecl());
  all_keys_present(originDecl());
  all_keys_present(demoDecl());
  // The built-in default closes the page, verbatim.
  EXPECT_NE(docs.find(std::string(embeddedDefaultConfig())), std::string::npos);
}

TEST(ConfigDocsTest, FormatsUnitsCanonically) {
  EXPECT_EQ(formatSize(0), "0B");
  EXPECT_EQ(formatSize(1000), "1000B");
  EXPECT_EQ(formatSize(8192), "8KiB");
  EXPECT_EQ(formatSize(uint64_t{3} << 30), "3GiB");
  EXPECT_EQ(formatDurationMillis(0), "0s");
  EXPECT_EQ(formatDurationMillis(1500), "1500ms");
  EXPECT_EQ(formatDurationMillis(601000), "601s");
  EXPECT_EQ(formatDurationMillis(86400000), "1d");
  EXPECT_EQ(formatDurationMillis(90 * 60 * 1000), "90m");
}

TEST(ConfigDocsTest, DefaultsInTablesRoundTripThroughTheLoader) {
  // Every default, rendered as the docs show it, must read back to the same value.
  std::string yaml =
      "listeners: [{address: 127.0.0.1:8080}]\n"
      "services: [{name: a, hosts: ['*'], origins: [{address: 10.0.0.1:80}]}]\n"
      "limits:\n";
  const LimitsConfig limits{};
  for (const auto& field : limitsDecl().fields) {
    yaml += "  " + std::string(field.key) + ": " + formatFieldValue(field, limits) + "\n";
  }
  yaml += "cache:\n";
  const CacheConfig cache{};
  for (const auto& field : cacheDecl().fields) {
    yaml += "  " + std::string(field.key) + ": " + formatFieldValue(field, cache) + "\n";
  }
  LoadResult result = loadConfigString(yaml, "roundtrip.yaml");
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : formatError(result.errors[0]));
  EXPECT_EQ(result.config->limits, limits);
  EXPECT_EQ(result.config->cache, cache);
}

}  // namespace
}  // namespace ec::config
