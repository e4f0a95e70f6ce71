#include "server/cli.h"

#include <string_view>

#include "base/strings.h"

namespace ec::server {

const char* helpText() {
  return R"(edgecache - a caching HTTP edge

Usage:
  edgecache [--config FILE] [flags]     serve (no FILE: the embedded default with its demo origin)
  edgecache --check-config FILE         validate FILE, print every error as file:line:column
  edgecache --version | --help

Quick-start flags (override the file):
  --listen ADDR:PORT     listen here (repeatable), e.g. 127.0.0.1:8080
  --origin HOST:PORT     send every host to this origin
  --memory SIZE          memory tier size, e.g. 256MiB
  --workers N            worker threads (0 = one per core)
  --admin ADDR:PORT      admin listener (/healthz, /metrics)
  --name NODE            node name in X-Cache (default: short hostname)

Signals: SIGHUP reloads the config file; SIGTERM drains and exits.
Example:  edgecache --listen 127.0.0.1:8080 --origin 127.0.0.1:8000
)";
}

const char* versionText() { return "edgecache 0.1.0\n"; }

Result<CliOptions> parseCli(int argc, char** argv) {
  CliOptions options;
  auto usage = [](std::string message) {
    return fail(Error::downstream(ErrorKind::kInvalidArgument, std::move(message)));
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    // Accept both "--flag value" and "--flag=value".
    std::string_view name = arg;
    std::optional<std::string> inline_value;
    if (const size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = std::string(arg.substr(eq + 1));
    }
    auto takeValue = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (name == "--help" || name == "-h") {
      options.action = CliOptions::Action::kHelp;
    } else if (name == "--version" || name == "-V") {
      options.action = CliOptions::Action::kVersion;
    } else if (name == "--test-clock") {
      options.test_clock = true;
    } else if (name == "--config" || name == "-c" || name == "--check-config") {
      auto v = takeValue();
      if (!v) return usage(std::string(name) + " needs a file");
      options.config_path = *v;
      if (name == "--check-config") options.action = CliOptions::Action::kCheckConfig;
    } else if (name == "--listen" || name == "-a") {
      auto v = takeValue();
      if (!v) return usage("--listen needs ADDR:PORT");
      options.overrides.listen.push_back(*v);
    } else if (name == "--origin" || name == "-b") {
      auto v = takeValue();
      if (!v) return usage("--origin needs HOST:PORT");
      options.overrides.origin = *v;
    } else if (name == "--memory" || name == "-s") {
      auto v = takeValue();
      if (!v) return usage("--memory needs a size such as 256MiB");
      options.overrides.memory = *v;
    } else if (name == "--admin") {
      auto v = takeValue();
      if (!v) return usage("--admin needs ADDR:PORT");
      options.overrides.admin = *v;
    } else if (name == "--name") {
      auto v = takeValue();
      if (!v) return usage("--name needs a node name");
      options.overrides.name = *v;
    } else if (name == "--workers") {
      auto v = takeValue();
      auto n = v ? parseDecimal(*v) : std::nullopt;
      if (!n || *n > 1024) return usage("--workers needs a number from 0 to 1024");
      options.overrides.workers = static_cast<uint32_t>(*n);
    } else {
      return usage("unknown argument '" + std::string(arg) + "' (see --help)");
    }
  }
  return options;
}

}  // namespace ec::server
