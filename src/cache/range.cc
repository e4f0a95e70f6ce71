#include "cache/range.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"

namespace ec::cache {
namespace {

// A range-spec before clamping: either first-last / first- or a suffix of `suffix` bytes.
struct RangeSpec {
  bool suffix = false;
  uint64_t first = 0;
  std::optional<uint64_t> last;
  uint64_t suffix_length = 0;
};

std::optional<RangeSpec> parseRangeSpec(std::string_view spec) {
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view left = spec.substr(0, dash);
  const std::string_view right = spec.substr(dash + 1);
  RangeSpec out;
  if (left.empty()) {
    auto length = parseDecimal(right);
    if (!length) return std::nullopt;
    out.suffix = true;
    out.suffix_length = *length;
    return out;
  }
  auto first = parseDecimal(left);
  if (!first) return std::nullopt;
  out.first = *first;
  if (!right.empty()) {
    auto last = parseDecimal(right);
    if (!last || *last < *first) return std::nullopt;
    out.last = *last;
  }
  return out;
}

}  // namespace

RangePlan planRanges(std::string_view range_header, uint64_t object_size, size_t max_ranges) {
  RangePlan plan;
  std::string_view text = trimOws(range_header);
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || !equalsIgnoreCase(text.substr(0, eq), "bytes")) {
    return plan;
  }
  text.remove_prefix(eq + 1);

  std::vector<ByteRange> satisfiable;
  size_t count = 0;
  bool malformed = false;
  size_t start = 0;
  for (size_t i = 0; i <= text.size() && !malformed; ++i) {
    if (i < text.size() && text[i] != ',') continue;
    const std::string_view element = trimOws(text.substr(start, i - start));
    start = i + 1;
    if (element.empty()) continue;  // empty list elements are allowed (RFC 9110 §5.6.1.2)
    if (++count > max_ranges) return plan;
    auto spec = parseRangeSpec(element);
    if (!spec) {
      malformed = true;
      break;
    }
    if (object_size == 0) continue;
    if (spec->suffix) {
      if (spec->suffix_length == 0) continue;
      const uint64_t length = std::min(spec->suffix_length, object_size);
      satisfiable.push_back({object_size - length, object_size - 1});
    } else if (spec->first < object_size) {
      satisfiable.push_back(
          {spec->first, std::min(spec->last.value_or(object_size - 1), object_size - 1)});
    }
  }
  if (malformed || count == 0) return plan;
  if (satisfiable.empty()) {
    plan.kind = RangePlan::kUnsatisfiable;
    return plan;
  }
  std::sort(satisfiable.begin(), satisfiable.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  for (const ByteRange& range : satisfiable) {
    if (!plan.ranges.empty() && range.first <= plan.ranges.back().last + 1) {
      plan.ranges.back().last = std::max(plan.ranges.back().last, range.last);
    } else {
      plan.ranges.push_back(range);
    }
  }
  plan.kind = plan.ranges.size() == 1 ? RangePlan::kSingle : RangePlan::kMultiple;
  return plan;
}

std::string contentRangeValue(ByteRange range, uint64_t object_size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
         std::to_string(object_size);
}

std::string unsatisfiedContentRangeValue(uint64_t object_size) {
  return "bytes */" + std::to_string(object_size);
}

std::string multipartBoundary(uint64_t random_bits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string boundary = "ec_";
  for (int shift = 60; shift >= 0; shift -= 4)
    boundary.push_back(kHex[(random_bits >> shift) & 0xF]);
  return boundary;
}

std::string multipartContentType(std::string_view boundary) {
  return "multipart/byteranges; boundary=" + std::string(boundary);
}

std::string multipartPartHeader(std::string_view boundary, std::string_view content_type,
                                ByteRange range, uint64_t object_size) {
  std::string out = "\r\n--";
  out.append(boundary);
  out.append("\r\n");
  if (!content_type.empty()) {
    out.append("Content-Type: ");
    out.append(content_type);
    out.append("\r\n");
  }
  out.append("Content-Range: ");
  out.append(contentRangeValue(range, object_size));
  out.append("\r\n\r\n");
  return out;
}

std::string multipartTrailer(std::string_view boundary) {
  return "\r\n--" + std::string(boundary) + "--\r\n";
}

uint64_t multipartBodyLength(const RangePlan& plan, std::string_view boundary,
                             std::string_view content_type, uint64_t object_size) {
  uint64_t total = multipartTrailer(boundary).size();
  for (const ByteRange& range : plan.ranges) {
    total += multipartPartHeader(boundary, content_type, range, object_size).size();
    total += range.length();
  }
  return total;
}

}  // namespace ec::cache
