#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace ec {
namespace {
std::atomic<uint64_t> g_bugs{0};
std::atomic<bool> g_abort_on_bug{false};
}  // namespace

uint64_t bugCount() { return g_bugs.load(std::memory_order_relaxed); }
void setAbortOnBugForTest(bool abort_on_bug) { g_abort_on_bug.store(abort_on_bug); }

namespace detail {
void checkFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "EC_CHECK failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

void bugReported(const char* what, const char* file, int line) {
  if (g_bugs.fetch_add(1, std::memory_order_relaxed) == 0 || g_abort_on_bug.load()) {
    std::fprintf(stderr, "EC_BUG: %s at %s:%d\n", what, file, line);
  }
  if (g_abort_on_bug.load()) std::abort();
}
}  // namespace detail
}  // namespace ec
