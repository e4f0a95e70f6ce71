#pragma once
// The command line: what to run (serve, check a config, print the version or help) and the
// quick-start flags that override the configuration file. Flag names are a stable interface.

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace ec::server {

struct CliOptions {
  enum class Action { kServe, kCheckConfig, kVersion, kHelp } action = Action::kServe;
  std::optional<std::string> config_path;
  config::FlagOverrides overrides;
  bool test_clock = false;  // enables POST /debug/clock/advance (tests only)
};

Result<CliOptions> parseCli(int argc, char** argv);
const char* helpText();
const char* versionText();

}  // namespace ec::server
