// gen_docs: prints the generated reference pages, from the declarations in the code.
//   gen_docs config           docs/user/config.md
//   gen_docs metrics          docs/user/metrics.md
//   gen_docs --out DIR        writes both into DIR
// tools/check_docs.sh runs it and fails when the checked-in pages differ.

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "accesslog/access_log_metrics.h"
#include "config/config.h"
#include "observe/process_metrics.h"
#include "observe/registry.h"
#include "proxy/proxy_metrics.h"
#include "purge/purge_metrics.h"
#include "server/server.h"
#include "tls/tls_stats.h"

namespace {

// Every room's metric declarations. A room joins this list by exposing
// `const std::vector<const observe::MetricDecl*>& ec::<room>::metricDecls()`.
std::vector<const ec::observe::MetricDecl*> allMetricDecls() {
  std::vector<const ec::observe::MetricDecl*> decls;
  for (const auto* list : {&ec::observe::metricDecls(), &ec::accesslog::metricDecls(),
                           &ec::proxy::metricDecls(), &ec::purge::metricDecls(),
                           &ec::server::metricDecls(), &ec::tls::metricDecls()}) {
    decls.insert(decls.end(), list->begin(), list->end());
  }
  return decls;
}

bool writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) std::fprintf(stderr, "gen_docs: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

int usage() {
  std::fprintf(stderr, "usage: gen_docs config | metrics | --out DIR\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view command = argv[1];
  if (command == "config" && argc == 2) {
    std::fputs(ec::config::renderConfigDocs().c_str(), stdout);
    return 0;
  }
  if (command == "metrics" && argc == 2) {
    std::fputs(ec::observe::Registry::renderDocs(allMetricDecls()).c_str(), stdout);
    return 0;
  }
  if (command == "--out" && argc == 3) {
    const std::string dir = argv[2];
    const bool ok =
        writeFile(dir + "/config.md", ec::config::renderConfigDocs()) &&
        writeFile(dir + "/metrics.md", ec::observe::Registry::renderDocs(allMetricDecls()));
    return ok ? 0 : 1;
  }
  return usage();
}
