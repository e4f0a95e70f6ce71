#include "base/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ec {
namespace {
std::atomic<uint64_t> g_suppressed{0};
std::atomic<uint64_t> g_messages[3] = {0, 0, 0};

int64_t steadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void logMessage(LogLevel level, const char* format, ...) {
  g_messages[static_cast<size_t>(level)].fetch_add(1, std::memory_order_relaxed);
  char line[2048];
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  const char* name = level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warn" : "error";
  size_t n = std::strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &utc);
  n += static_cast<size_t>(std::snprintf(line + n, sizeof line - n, "%s ", name));
  va_list args;
  va_start(args, format);
  const int body = std::vsnprintf(line + n, sizeof line - n, format, args);
  va_end(args);
  if (body > 0) n = std::min(sizeof line - 2, n + static_cast<size_t>(body));
  line[n++] = '\n';
  std::fwrite(line, 1, n, stderr);
}

bool logRateAllows(std::atomic<int64_t>& last, int64_t interval_ms) {
  const int64_t now = steadyMillis();
  int64_t previous = last.load(std::memory_order_relaxed);
  if (now - previous < interval_ms && previous != 0) {
    g_suppressed.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return last.compare_exchange_strong(previous, now);
}

uint64_t logMessageCount(LogLevel level) {
  return g_messages[static_cast<size_t>(level)].load(std::memory_order_relaxed);
}

uint64_t logSuppressedCount() { return g_suppressed.load(std::memory_order_relaxed); }

}  // namespace ec
