// edgecache entry point: parse the command line and hand over to the Server.
#include <cstdio>

#include "server/cli.h"
#include "server/server.h"

int main(int argc, char** argv) {
  auto options = ec::server::parseCli(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "edgecache: %s\n", options.error().context.c_str());
    return 2;
  }
  switch (options->action) {
    case ec::server::CliOptions::Action::kHelp:
      std::fputs(ec::server::helpText(), stdout);
      return 0;
    case ec::server::CliOptions::Action::kVersion:
      std::fputs(ec::server::versionText(), stdout);
      std::fputs("allocator: " EC_ALLOCATOR_NAME "\n", stdout);
      return 0;
    case ec::server::CliOptions::Action::kCheckConfig: {
      auto loaded = ec::server::loadFromCli(*options);
      if (!loaded.config) {
        for (const auto& error : loaded.errors) {
          std::fprintf(stderr, "%s\n", ec::config::formatError(error).c_str());
        }
        return 1;
      }
      std::printf("configuration OK\n");
      return 0;
    }
    case ec::server::CliOptions::Action::kServe:
      break;
  }
  ec::server::Server server(std::move(*options));
  return server.run();
}
