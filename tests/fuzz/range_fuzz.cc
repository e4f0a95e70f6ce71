// Fuzzes the Range planner: the first byte picks max_ranges, the next four the object size,
// the rest is the Range field value. Checks that every plan is well formed: ranges inside the
// object, sorted, disjoint and non-adjacent, at most max_ranges of them, and a multipart
// length that matches the framing actually produced.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cache/range.h"

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ec::cache::RangePlan;
  if (size < 5) return 0;
  const size_t max_ranges = data[0] % 80;
  const uint64_t object_size = (uint64_t{data[1]} << 24 | uint64_t{data[2]} << 16 |
                                uint64_t{data[3]} << 8 | uint64_t{data[4]}) %
                               100'000;
  const std::string_view header(reinterpret_cast<const char*>(data + 5), size - 5);

  const RangePlan plan = ec::cache::planRanges(header, object_size, max_ranges);
  switch (plan.kind) {
    case RangePlan::kIgnore:
    case RangePlan::kUnsatisfiable:
      check(plan.ranges.empty());
      return 0;
    case RangePlan::kSingle:
      check(plan.ranges.size() == 1);
      break;
    case RangePlan::kMultiple:
      check(plan.ranges.size() > 1);
      break;
  }
  check(plan.ranges.size() <= max_ranges);
  for (size_t i = 0; i < plan.ranges.size(); ++i) {
    const auto& range = plan.ranges[i];
    check(range.first <= range.last && range.last < object_size);
    if (i > 0) check(range.first > plan.ranges[i - 1].last + 1);
  }
  if (plan.kind == RangePlan::kMultiple) {
    const std::string boundary = ec::cache::multipartBoundary(object_size);
    uint64_t produced = ec::cache::multipartTrailer(boundary).size();
    for (const auto& range : plan.ranges) {
      produced += ec::cache::multipartPartHeader(boundary, "text/plain", range, object_size).size();
      produced += range.length();
    }
    check(produced == ec::cache::multipartBodyLength(plan, boundary, "text/plain", object_size));
  }
  return 0;
}
