#pragma once
// Process metrics read from /proc/self at scrape time: CPU seconds, resident and virtual
// memory, open and maximum file descriptors, start time. Also the list of every metric the
// observe room itself declares, for docs/user/metrics.md.

#include <optional>
#include <string_view>
#include <vector>

#include "observe/metric.h"
#include "observe/registry.h"

namespace ec::observe {

// Registers the process_* series with `registry` (call once per registry).
void registerProcessMetrics(Registry& registry);

// The declarations owned by the observe room.
const std::vector<const MetricDecl*>& metricDecls();

// One read of /proc/self/stat and friends; fields are nullopt when /proc is unavailable.
struct ProcessStats {
  std::optional<double> cpu_seconds;
  std::optional<double> resident_bytes;
  std::optional<double> virtual_bytes;
  std::optional<double> start_time_seconds;  // since the Unix epoch
  std::optional<double> open_fds;
  std::optional<double> max_fds;
};
ProcessStats readProcessStats();

// Parses the text of /proc/<pid>/stat (exposed for tests: the command name may hold spaces and
// parentheses). `ticks_per_second` and `page_size` come from sysconf; `boot_time_seconds` from
// the btime line of /proc/stat.
ProcessStats parseProcStat(std::string_view stat, double ticks_per_second, double page_size,
                           std::optional<double> boot_time_seconds);

}  // namespace ec::observe
