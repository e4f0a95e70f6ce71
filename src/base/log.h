#pragma once
// The diagnostic log: start-up, reloads, origin failures. Lines go to stderr as
// "<ISO time> <level> <message>"; warnings and errors are rate-limited per call site
// (EC_LOG_EVERY) so a failing origin cannot flood the disk. The access log is elsewhere.

#include <atomic>
#include <cstdarg>
#include <cstdint>

namespace ec {

enum class LogLevel : uint8_t { kInfo, kWarning, kError };

void logMessage(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));
// Returns true at most once per `interval_ms` for one call site's `last` stamp; counts the
// suppressed lines into `suppressed`.
bool logRateAllows(std::atomic<int64_t>& last, int64_t interval_ms);
// Lines dropped by rate limiting since start (exported as a metric).
uint64_t logSuppressedCount();
// Lines written at `level` since start (exported as a metric).
uint64_t logMessageCount(LogLevel level);

}  // namespace ec

#define EC_LOG_INFO(...) ::ec::logMessage(::ec::LogLevel::kInfo, __VA_ARGS__)
#define EC_LOG_WARN(...) ::ec::logMessage(::ec::LogLevel::kWarning, __VA_ARGS__)
#define EC_LOG_ERROR(...) ::ec::logMessage(::ec::LogLevel::kError, __VA_ARGS__)
// At most one line per second from this call site.
#define EC_LOG_EVERY_SECOND(level, ...)                               \
  do {                                                                \
    static std::atomic<int64_t> ec_log_last_{0};                      \
    if (::ec::logRateAllows(ec_log_last_, 1000)) {                    \
      ::ec::logMessage(level, __VA_ARGS__);                           \
    }                                                                 \
  } while (0)
