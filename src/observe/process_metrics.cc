#include "observe/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "base/strings.h"

namespace ec::observe {
namespace {

using Type = MetricDecl::Type;

const MetricDecl kCpuSeconds{"edgecache_process_cpu_seconds_total",
                             "User and system CPU time spent by the process.",
                             Type::kCounter,
                             {},
                             {},
                             "seconds"};
const MetricDecl kResidentMemory{"edgecache_process_resident_memory_bytes",
                                 "Resident memory of the process.",
                                 Type::kGauge,
                                 {},
                                 {},
                                 "bytes"};
const MetricDecl kVirtualMemory{"edgecache_process_virtual_memory_bytes",
                                "Virtual memory of the process.",
                                Type::kGauge,
                                {},
                                {},
                                "bytes"};
const MetricDecl kOpenFds{
    "edgecache_process_open_fds", "Open file descriptors.", Type::kGauge, {}, {}, ""};
const MetricDecl kMaxFds{"edgecache_process_max_fds",
                         "Limit on open file descriptors (RLIMIT_NOFILE).",
                         Type::kGauge,
                         {},
                         {},
                         ""};
const MetricDecl kStartTime{"edgecache_process_start_time_seconds",
                            "Start time of the process since the Unix epoch.",
                            Type::kGauge,
                            {},
                            {},
                            "seconds"};

std::string readFile(const char* path) {
  std::ifstream file(path);
  if (!file) return {};
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::optional<double> bootTimeSeconds() {
  std::istringstream stat(readFile("/proc/stat"));
  std::string line;
  while (std::getline(stat, line)) {
    if (line.starts_with("btime ")) {
      if (auto value = parseDecimal(trimOws(std::string_view(line).substr(6)))) {
        return static_cast<double>(*value);
      }
    }
  }
  return std::nullopt;
}

std::optional<double> countOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

ProcessStats parseProcStat(std::string_view stat, double ticks_per_second, double page_size,
                           std::optional<double> boot_time_seconds) {
  ProcessStats stats;
  // "pid (comm) state ppid ...": comm may contain anything, so split after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return stats;
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  std::string_view rest = stat.substr(close + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n')) ++pos;
    size_t end = pos;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\n') ++end;
    if (end > pos) fields.push_back(rest.substr(pos, end - pos));
    pos = end;
  }
  auto field = [&](size_t number) -> std::optional<uint64_t> {  // 1-based, as in proc(5)
    if (number < 3 || number - 3 >= fields.size()) return std::nullopt;
    return parseDecimal(fields[number - 3]);
  };
  const auto utime = field(14);
  const auto stime = field(15);
  if (utime && stime && ticks_per_second > 0) {
    stats.cpu_seconds = static_cast<double>(*utime + *stime) / ticks_per_second;
  }
  if (auto start = field(22); start && boot_time_seconds && ticks_per_second > 0) {
    stats.start_time_seconds = *boot_time_seconds + static_cast<double>(*start) / ticks_per_second;
  }
  if (auto vsize = field(23)) stats.virtual_bytes = static_cast<double>(*vsize);
  if (auto rss = field(24)) stats.resident_bytes = static_cast<double>(*rss) * page_size;
  return stats;
}

ProcessStats readProcessStats() {
  ProcessStats stats =
      parseProcStat(readFile("/proc/self/stat"), static_cast<double>(sysconf(_SC_CLK_TCK)),
                    static_cast<double>(sysconf(_SC_PAGESIZE)), bootTimeSeconds());
  stats.open_fds = countOpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    stats.max_fds = static_cast<double>(limit.rlim_cur);
  }
  return stats;
}

void registerProcessMetrics(Registry& registry) {
  // Each callback reads /proc on its own: a scrape costs a few small reads, and no state is
  // shared between callbacks. Missing values read as NaN, which Prometheus accepts.
  auto value = [](std::optional<double> ProcessStats::*member) {
    return [member] { return (readProcessStats().*member).value_or(std::nan("")); };
  };
  registry.callback(kCpuSeconds, {}, value(&ProcessStats::cpu_seconds));
  registry.callback(kResidentMemory, {}, value(&ProcessStats::resident_bytes));
  registry.callback(kVirtualMemory, {}, value(&ProcessStats::virtual_bytes));
  registry.callback(kOpenFds, {}, value(&ProcessStats::open_fds));
  registry.callback(kMaxFds, {}, value(&ProcessStats::max_fds));
  // The start time does not change: read it once.
  const double start = readProcessStats().start_time_seconds.value_or(std::nan(""));
  registry.callback(kStartTime, {}, [start] { return start; });
}

const std::vector<const MetricDecl*>& metricDecls() {
  static const std::vector<const MetricDecl*> decls = {
      &kCpuSeconds, &kResidentMemory, &kVirtualMemory, &kOpenFds, &kMaxFds, &kStartTime};
  return decls;
}

}  // namespace ec::observe
