#pragma once
// Range requests served from a complete cached object (RFC 9110 §14): planning which bytes to
// send, and the Content-Range / multipart/byteranges framing around them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ec::cache {

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

struct RangePlan {
  enum Kind {
    kIgnore,         // serve the whole object with 200
    kSingle,         // 206 with Content-Range
    kMultiple,       // 206 multipart/byteranges
    kUnsatisfiable,  // 416 with Content-Range: bytes */size
  };
  Kind kind = kIgnore;
  std::vector<ByteRange> ranges;  // sorted, non-overlapping, non-adjacent
};

// Plans the answer to `range_header` (the Range field value) for an object of object_size
// bytes. Only the "bytes" unit is understood. The whole header is ignored (kIgnore) when it
// is malformed (any bad range-spec, RFC 9110 §14.1.1), uses another unit, or lists more than
// max_ranges ranges: the last defends against many-small-ranges amplification
// (CVE-2011-3192). Satisfiable ranges are clamped to the object, sorted, and overlapping or
// adjacent ones coalesced (§14.2 allows it); none satisfiable gives kUnsatisfiable.
RangePlan planRanges(std::string_view range_header, uint64_t object_size, size_t max_ranges);

// "bytes 0-99/1000"
std::string contentRangeValue(ByteRange range, uint64_t object_size);
// "bytes */1000" (for 416)
std::string unsatisfiedContentRangeValue(uint64_t object_size);

// multipart/byteranges framing (RFC 9110 §14.6). The boundary must not occur in the body;
// callers derive it from randomness they pass in.
std::string multipartBoundary(uint64_t random_bits);
std::string multipartContentType(std::string_view boundary);
// "\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/n\r\n\r\n"; Content-Type omitted
// when empty. The first part starts with the same CRLF (allowed as preamble-free framing).
std::string multipartPartHeader(std::string_view boundary, std::string_view content_type,
                                ByteRange range, uint64_t object_size);
// "\r\n--B--\r\n"
std::string multipartTrailer(std::string_view boundary);
// Total body length of the multipart answer, for Content-Length.
uint64_t multipartBodyLength(const RangePlan& plan, std::string_view boundary,
                             std::string_view content_type, uint64_t object_size);

}  // namespace ec::cache
