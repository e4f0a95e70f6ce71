// SendWatch (the send-progress decision behind limits.send_timeout for HTTP/2) and
// responseAllowance (a stream's share of http2.max_response_buffer).
#include "h2/send_progress.h"

#include <gtest/gtest.h>

namespace ec::h2 {
namespace {

constexpr uint32_t kChecks = SendWatch::kChecksPerTimeout;

TEST(SendWatchTest, StalledOnlyAfterMoreThanAWholeTimeoutWithoutProgress) {
  SendWatch watch;
  // Progress stopped just after a check: the next kChecks checks are at most one timeout
  // later, so the stall is reported on the one after (more than a timeout, at most 1.25x).
  EXPECT_FALSE(watch.check(true, 100));
  for (uint32_t i = 0; i < kChecks; ++i) EXPECT_FALSE(watch.check(true, 100)) << i;
  EXPECT_TRUE(watch.check(true, 100));
  EXPECT_TRUE(watch.check(true, 100));  // and stays stalled
}

TEST(SendWatchTest, AnyProgressStartsTheCountAgain) {
  SendWatch watch;
  uint64_t progress = 0;
  // A slow but steady reader: one byte per three checks, forever.
  for (int i = 0; i < 100; ++i) {
    if (i % 3 == 0) ++progress;
    EXPECT_FALSE(watch.check(true, progress)) << i;
  }
}

TEST(SendWatchTest, NothingWaitingIsNeverAStall) {
  SendWatch watch;
  // Streams waiting on a slow origin: nothing waits for the client, however long.
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(watch.check(false, 7));
  // Output appears and then sits: counted from then on.
  for (uint32_t i = 0; i < kChecks; ++i) EXPECT_FALSE(watch.check(true, 7));
  EXPECT_TRUE(watch.check(true, 7));
}

TEST(SendWatchTest, AGapWithNothingWaitingResetsTheCount) {
  SendWatch watch;
  for (uint32_t i = 0; i < kChecks; ++i) EXPECT_FALSE(watch.check(true, 5));
  EXPECT_FALSE(watch.check(false, 5));
  EXPECT_EQ(watch.stalledChecks(), 0u);
  for (uint32_t i = 0; i < kChecks; ++i) EXPECT_FALSE(watch.check(true, 5));
  EXPECT_TRUE(watch.check(true, 5));
  watch.reset(5);
  EXPECT_FALSE(watch.check(true, 5));
}

TEST(ResponseAllowanceTest, AStreamGetsWhatIsLeftWithinItsOwnBounds) {
  constexpr size_t kMin = 16, kMax = 256, kLimit = 1000;
  // Alone: up to its own maximum.
  EXPECT_EQ(responseAllowance(0, 0, kLimit, kMin, kMax), kMax);
  EXPECT_EQ(responseAllowance(100, 100, kLimit, kMin, kMax), kMax);
  // Others hold 900: 100 left for this one (what it holds itself counts as its own).
  EXPECT_EQ(responseAllowance(0, 900, kLimit, kMin, kMax), 100u);
  EXPECT_EQ(responseAllowance(50, 950, kLimit, kMin, kMax), 100u);
  // Others hold it all, or more (the floors of many streams): still the floor.
  EXPECT_EQ(responseAllowance(0, 1000, kLimit, kMin, kMax), kMin);
  EXPECT_EQ(responseAllowance(10, 5000, kLimit, kMin, kMax), kMin);
  // A limit below the floor never starves a stream.
  EXPECT_EQ(responseAllowance(0, 0, 8, kMin, kMax), kMin);
}

TEST(ResponseAllowanceTest, ManyStreamsStayWithinTheLimitPlusTheirFloors) {
  constexpr size_t kMin = 16, kMax = 256, kLimit = 1024;
  size_t held[100] = {};
  size_t total = 0;
  // Each stream in turn fills up to its allowance (what a client that never reads causes).
  for (int round = 0; round < 3; ++round) {
    for (size_t& own : held) {
      const size_t allowance = responseAllowance(own, total, kLimit, kMin, kMax);
      if (allowance > own) {
        total += allowance - own;
        own = allowance;
      }
    }
  }
  EXPECT_LE(total, kLimit + 100 * kMin);
  EXPECT_GE(total, kLimit);
}

}  // namespace
}  // namespace ec::h2
