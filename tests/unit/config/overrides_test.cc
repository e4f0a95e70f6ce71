#include <gtest/gtest.h>

#include <fstream>

#include "base/check.h"
#include "config/config.h"

namespace ec::config {
namespace {

Config embedded() {
  LoadResult result = loadConfigString(embeddedDefaultConfig(), "<embedded>");
  EC_CHECK(result.config.has_value());
  return *result.config;
}

std::string joined(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& error : errors) out += formatError(error) + "\n";
  return out;
}

TEST(OverridesTest, QuickStartWithoutAFile) {
  // edgecache --listen 127.0.0.1:8080 --origin 127.0.0.1:8000
  Config config = embedded();
  FlagOverrides flags;
  flags.listen = {"127.0.0.1:8080"};
  flags.origin = "127.0.0.1:8000";
  EXPECT_TRUE(applyOverrides(config, flags).empty());
  EXPECT_TRUE(validate(config).empty()) << joined(validate(config));
  ASSERT_EQ(config.services.size(), 1u);
  EXPECT_EQ(config.services[0].name, "default");
  EXPECT_EQ(config.services[0].hosts, std::vector<std::string>{"*"});
  ASSERT_EQ(config.services[0].origins.size(), 1u);
  EXPECT_EQ(config.services[0].origins[0].address, "127.0.0.1:8000");
  EXPECT_FALSE(config.demo.enabled);  // would otherwise take the origin's port
}

TEST(OverridesTest, EveryFlagLandsInItsField) {
  Config config = embedded();
  FlagOverrides flags;
  flags.listen = {"127.0.0.1:8081", "[::1]:8081"};
  flags.memory = "1GiB";
  flags.admin = "127.0.0.1:9191";
  flags.name = "cp3050";
  flags.workers = 2;
  EXPECT_TRUE(applyOverrides(config, flags).empty());
  EXPECT_TRUE(validate(config).empty()) << joined(validate(config));
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[1].address, "[::1]:8081");
  EXPECT_EQ(config.cache.memory_size, uint64_t{1} << 30);
  EXPECT_EQ(config.admin.address, "127.0.0.1:9191");
  EXPECT_EQ(config.node_name, "cp3050");
  EXPECT_EQ(config.workers, 2u);
  EXPECT_TRUE(config.demo.enabled);  // no --origin: the demo still backs the demo service
}

TEST(OverridesTest, BadFlagsAreReportedUnderTheFlagsName) {
  Config config = embedded();
  FlagOverrides flags;
  flags.memory = "12 parsecs";
  flags.listen = {"8080"};
  flags.origin = "origin.example";
  flags.workers = 100000;
  EXPECT_EQ(joined(applyOverrides(config, flags)),
            "--memory: \"12 parsecs\" is not a size (examples: 256MiB, 1GiB)\n");
  EXPECT_EQ(joined(validate(config)),
            "--workers: workers: 100000 is above the maximum 1024\n"
            "--listen: listeners[0].address: \"8080\": missing ':port' (expected host:port)\n"
            "--origin: services[0].origins[0].address: \"origin.example\": missing ':port' "
            "(expected host:port)\n");
}

TEST(OverridesTest, FlagValuesNoLongerPointIntoTheFile) {
  LoadResult loaded = loadConfigString(R"(listeners:
  - address: 127.0.0.1:8080
services:
  - name: a
    hosts: ["*"]
    origins: [{address: "10.0.0.1:80"}]
)",
                                       "edgecache.yaml");
  ASSERT_TRUE(loaded.config);
  Config config = *loaded.config;
  FlagOverrides flags;
  flags.admin = "127.0.0.1:8080";  // clashes with the listener from the file
  EXPECT_TRUE(applyOverrides(config, flags).empty());
  EXPECT_EQ(joined(validate(config)),
            "--admin: admin.address: same address as listeners[0].address\n");
}

TEST(RestartOnlyChangesTest, ListsOnlyRestartOnlySettings) {
  const Config running = embedded();
  Config next = running;
  next.cache.ttl_cap_s = 60;         // reloadable
  next.limits.max_fields = 50;       // reloadable
  next.services[0].hosts = {"a.b"};  // reloadable
  EXPECT_TRUE(restartOnlyChanges(running, next).empty());
  next.cache.memory_size *= 2;
  next.cache.eviction = "lru";
  next.workers = 4;
  next.listeners.push_back(ListenerConfig{"127.0.0.1:8081"});
  next.admin.address = "127.0.0.1:9999";
  next.demo.enabled = false;
  EXPECT_EQ(restartOnlyChanges(running, next),
            (std::vector<std::string>{"workers", "listeners", "admin.address", "cache.memory_size",
                                      "cache.eviction", "demo.enabled"}));
}

}  // namespace
}  // namespace ec::config

namespace ec::config {
namespace {

TEST(LoadWithOverridesTest, FlagsCompleteAFileWithoutServices) {
  const std::string path = testing::TempDir() + "overrides_no_services.yaml";
  {
    std::ofstream file(path);
    file << "listeners:\n  - address: 127.0.0.1:8080\ncache:\n  memory_size: 64MiB\n";
  }
  FlagOverrides flags;
  flags.origin = "127.0.0.1:8000";
  LoadResult result = loadWithOverrides(path, flags);
  ASSERT_TRUE(result.config) << joined(result.errors);
  EXPECT_EQ(result.config->cache.memory_size, uint64_t{64} << 20);
  ASSERT_EQ(result.config->services.size(), 1u);
  EXPECT_EQ(result.config->services[0].origins[0].address, "127.0.0.1:8000");
  // Without the flag, the same file is incomplete.
  LoadResult bare = loadWithOverrides(path, FlagOverrides{});
  EXPECT_FALSE(bare.config);
  EXPECT_EQ(joined(bare.errors), path + ": services: at least one service is required\n");
}

TEST(LoadWithOverridesTest, NoFileMeansTheEmbeddedDefault) {
  FlagOverrides flags;
  flags.listen = {"127.0.0.1:18080"};
  LoadResult result = loadWithOverrides(std::nullopt, flags);
  ASSERT_TRUE(result.config) << joined(result.errors);
  EXPECT_EQ(result.config->source, "<embedded>");
  EXPECT_EQ(result.config->services[0].name, "demo");
  EXPECT_TRUE(result.config->demo.enabled);
  ASSERT_EQ(result.config->listeners.size(), 1u);
  EXPECT_EQ(result.config->listeners[0].address, "127.0.0.1:18080");
}

TEST(LoadWithOverridesTest, FileAndFlagErrorsTogether) {
  const std::string path = testing::TempDir() + "overrides_bad.yaml";
  {
    std::ofstream file(path);
    file << "listeners:\n  - address: 127.0.0.1:8080\ncache:\n  memry_size: 1GiB\n";
  }
  FlagOverrides flags;
  flags.origin = "127.0.0.1:8000";
  flags.listen = {"127.0.0.1:8000"};  // the origin's own port: allowed, demo is off
  flags.memory = "huge";
  LoadResult result = loadWithOverrides(path, flags);
  EXPECT_FALSE(result.config);
  EXPECT_EQ(joined(result.errors),
            path + ":4:3: cache.memry_size: unknown key (did you mean 'memory_size'?)\n" +
                "--memory: \"huge\" is not a size (examples: 256MiB, 1GiB)\n");
  EXPECT_EQ(joined(loadWithOverrides("/nonexistent.yaml", flags).errors),
            "/nonexistent.yaml: cannot open the file\n");
}

TEST(LoadWithOverridesTest, ListenOnTheDemoPortIsCaught) {
  FlagOverrides flags;
  flags.listen = {"127.0.0.1:8000"};
  LoadResult result = loadWithOverrides(std::nullopt, flags);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].file, "<embedded>");
  EXPECT_GT(result.errors[0].line, 0);  // the demo's line in deploy/edgecache.yaml
  EXPECT_EQ(result.errors[0].message, "demo.address: same address as listeners[0].address");
}

}  // namespace
}  // namespace ec::config
