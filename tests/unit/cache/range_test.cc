#include "cache/range.h"

#include <gtest/gtest.h>

namespace ec::cache {
namespace {

using Ranges = std::vector<ByteRange>;

TEST(Range, SingleForms) {
  RangePlan p = planRanges("bytes=0-99", 1000, 64);
  EXPECT_EQ(p.kind, RangePlan::kSingle);
  EXPECT_EQ(p.ranges, (Ranges{{0, 99}}));
  EXPECT_EQ(planRanges("bytes=900-", 1000, 64).ranges, (Ranges{{900, 999}}));
  EXPECT_EQ(planRanges("bytes=-100", 1000, 64).ranges, (Ranges{{900, 999}}));
  EXPECT_EQ(planRanges("bytes=-5000", 1000, 64).ranges, (Ranges{{0, 999}}));
  EXPECT_EQ(planRanges("bytes=990-5000", 1000, 64).ranges, (Ranges{{990, 999}}));
  EXPECT_EQ(planRanges("BYTES = 1-1", 10, 64).kind, RangePlan::kIgnore);
  EXPECT_EQ(planRanges("Bytes=1-1", 10, 64).ranges, (Ranges{{1, 1}}));
}

TEST(Range, MultipleAndCoalesced) {
  RangePlan p = planRanges("bytes=0-9, 20-29", 100, 64);
  EXPECT_EQ(p.kind, RangePlan::kMultiple);
  EXPECT_EQ(p.ranges, (Ranges{{0, 9}, {20, 29}}));
  p = planRanges("bytes=20-29,0-9,5-24", 100, 64);
  EXPECT_EQ(p.kind, RangePlan::kSingle);
  EXPECT_EQ(p.ranges, (Ranges{{0, 29}}));
  p = planRanges("bytes=0-9,10-19", 100, 64);  // adjacent
  EXPECT_EQ(p.ranges, (Ranges{{0, 19}}));
  p = planRanges("bytes=50-59,0-0,-1", 100, 64);
  EXPECT_EQ(p.ranges, (Ranges{{0, 0}, {50, 59}, {99, 99}}));
  p = planRanges("bytes=0-1,,  ,5-6", 100, 64);
  EXPECT_EQ(p.ranges, (Ranges{{0, 1}, {5, 6}}));
}

TEST(Range, Unsatisfiable) {
  EXPECT_EQ(planRanges("bytes=1000-", 1000, 64).kind, RangePlan::kUnsatisfiable);
  EXPECT_EQ(planRanges("bytes=-0", 1000, 64).kind, RangePlan::kUnsatisfiable);
  EXPECT_EQ(planRanges("bytes=0-0", 0, 64).kind, RangePlan::kUnsatisfiable);
  EXPECT_EQ(planRanges("bytes=2000-3000,1000-", 1000, 64).kind, RangePlan::kUnsatisfiable);
  // One satisfiable range is enough.
  EXPECT_EQ(planRanges("bytes=2000-3000,0-0", 1000, 64).kind, RangePlan::kSingle);
}

TEST(Range, IgnoredWhenMalformedOrOtherUnit) {
  for (const char* bad : {"", "bytes", "bytes=", "bytes=,", "bytes=a-b", "bytes=5-1", "bytes=-",
                          "bytes=1-2-3", "bytes=0-1,x", "items=0-1", "bytes=0x1-2",
                          "bytes=99999999999999999999-", "bytes=- 5", "bytes=+1-2"}) {
    EXPECT_EQ(planRanges(bad, 1000, 64).kind, RangePlan::kIgnore) << bad;
  }
}

TEST(Range, TooManyRangesIgnored) {
  std::string header = "bytes=";
  for (int i = 0; i < 65; ++i) header += std::to_string(i * 2) + "-" + std::to_string(i * 2) + ",";
  EXPECT_EQ(planRanges(header, 1000, 64).kind, RangePlan::kIgnore);
  EXPECT_EQ(planRanges(header, 1000, 65).kind, RangePlan::kMultiple);
  // Overlapping ranges still count before coalescing: "0-,0-,..." is the amplification shape.
  EXPECT_EQ(planRanges("bytes=0-,0-,0-", 1000, 2).kind, RangePlan::kIgnore);
}

TEST(Range, ContentRangeValues) {
  EXPECT_EQ(contentRangeValue({0, 99}, 1000), "bytes 0-99/1000");
  EXPECT_EQ(unsatisfiedContentRangeValue(1000), "bytes */1000");
}

TEST(Range, MultipartFraming) {
  const std::string boundary = multipartBoundary(0x0123456789abcdefULL);
  EXPECT_EQ(boundary, "ec_0123456789abcdef");
  EXPECT_EQ(multipartContentType(boundary), "multipart/byteranges; boundary=ec_0123456789abcdef");
  EXPECT_EQ(multipartPartHeader("B", "text/plain", {0, 1}, 10),
            "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n");
  EXPECT_EQ(multipartPartHeader("B", "", {0, 1}, 10),
            "\r\n--B\r\nContent-Range: bytes 0-1/10\r\n\r\n");
  EXPECT_EQ(multipartTrailer("B"), "\r\n--B--\r\n");
  const RangePlan plan = planRanges("bytes=0-1,5-6", 10, 64);
  const std::string body = multipartPartHeader("B", "t", {0, 1}, 10) + "ab" +
                           multipartPartHeader("B", "t", {5, 6}, 10) + "fg" + multipartTrailer("B");
  EXPECT_EQ(multipartBodyLength(plan, "B", "t", 10), body.size());
}

}  // namespace
}  // namespace ec::cache
