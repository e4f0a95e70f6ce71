#pragma once
// Invariant checks. EC_CHECK is always on; EC_DCHECK only in debug builds; EC_BUG reports a
// broken invariant without taking the node down in release (log once + counter) and aborts
// under tests. Never check anything a peer can send: that is an error value, not a bug.

#include <atomic>
#include <cstdint>

namespace ec::detail {
[[noreturn]] void checkFailed(const char* expr, const char* file, int line);
void bugReported(const char* what, const char* file, int line);
}  // namespace ec::detail

namespace ec {
// Number of EC_BUG reports since start (exported as a metric by the server).
uint64_t bugCount();
// Tests call this so that EC_BUG aborts instead of counting.
void setAbortOnBugForTest(bool abort_on_bug);
}  // namespace ec

#define EC_CHECK(expr) \
  ((expr) ? static_cast<void>(0) : ::ec::detail::checkFailed(#expr, __FILE__, __LINE__))

#ifdef NDEBUG
#define EC_DCHECK(expr) static_cast<void>(0)
#else
#define EC_DCHECK(expr) EC_CHECK(expr)
#endif

#define EC_BUG(what) ::ec::detail::bugReported((what), __FILE__, __LINE__)
