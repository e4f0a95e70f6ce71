// ProgressWatch (the decision behind limits.send_timeout / min_send_rate and
// limits.body_timeout / min_body_rate, HTTP/1.1 and HTTP/2) and
// responseAllowance (a stream's share of http2.max_response_buffer).
#include "h2/send_progress.h"

#include <gtest/gtest.h>

namespace ec::h2 {
namespace {

using Verdict = ProgressWatch::Verdict;
constexpr int64_t kTimeout = 1000;
constexpr int64_t kPeriod = kTimeout / ProgressWatch::kChecksPerTimeout;

TEST(ProgressWatchTest, StalledOnlyAfterAWholeTimeoutWithoutProgress) {
  ProgressWatch watch;
  int64_t now = 0;
  // Progress stopped just after the first check: the window starts there, and the stall is
  // reported on the check a whole timeout later (more than a timeout since the last byte, at
  // most a period more).
  EXPECT_EQ(watch.check(now, true, 100, kTimeout, 1), Verdict::kFine);
  for (uint32_t i = 1; i < ProgressWatch::kChecksPerTimeout; ++i) {
    EXPECT_EQ(watch.check(now += kPeriod, true, 100, kTimeout, 1), Verdict::kFine) << i;
  }
  EXPECT_EQ(watch.check(now += kPeriod, true, 100, kTimeout, 1), Verdict::kStalled);
  EXPECT_EQ(watch.check(now += kPeriod, true, 100, kTimeout, 1), Verdict::kStalled);  // stays
}

TEST(ProgressWatchTest, AnyByteIsProgressWithoutAMinimumRate) {
  ProgressWatch watch;
  uint64_t progress = 0;
  // A slow but steady reader: one byte per three checks, forever.
  for (int i = 0; i < 100; ++i) {
    if (i % 3 == 0) ++progress;
    EXPECT_EQ(watch.check(i * kPeriod, true, progress, kTimeout, 1), Verdict::kFine) << i;
  }
}

TEST(ProgressWatchTest, ADribbleBelowTheMinimumRateIsSlow) {
  ProgressWatch watch;
  // One byte per check ("data dribble": one byte of window per period) against a minimum of
  // 240 bytes per second over a 1 s timeout.
  const uint64_t min_bytes = ProgressWatch::minBytes(240, kTimeout);
  EXPECT_EQ(min_bytes, 240u);
  uint64_t progress = 0;
  Verdict verdict = Verdict::kFine;
  int checks = 0;
  while (verdict == Verdict::kFine && checks < 100) {
    verdict = watch.check(checks * kPeriod, true, ++progress, kTimeout, min_bytes);
    ++checks;
  }
  EXPECT_EQ(verdict, Verdict::kSlow);
  EXPECT_EQ(checks, 5);  // the first check opens the window, a timeout later it is judged
}

TEST(ProgressWatchTest, ARateAtTheMinimumIsNeverSlow) {
  ProgressWatch watch;
  const uint64_t min_bytes = ProgressWatch::minBytes(240, kTimeout);
  uint64_t progress = 0;
  // 60 bytes per quarter second is exactly 240 per second.
  for (int i = 0; i < 200; ++i) {
    progress += 60;
    EXPECT_EQ(watch.check(i * kPeriod, true, progress, kTimeout, min_bytes), Verdict::kFine) << i;
  }
  // Bursty: the whole minimum once per timeout, nothing in between.
  ProgressWatch bursty;
  progress = 0;
  for (int i = 0; i < 200; ++i) {
    if (i % 4 == 0) progress += min_bytes;
    EXPECT_EQ(bursty.check(i * kPeriod, true, progress, kTimeout, min_bytes), Verdict::kFine) << i;
  }
}

TEST(ProgressWatchTest, MinBytesScalesWithTheTimeoutAndIsAtLeastOne) {
  EXPECT_EQ(ProgressWatch::minBytes(240, 60000), 14400u);
  EXPECT_EQ(ProgressWatch::minBytes(0, 60000), 1u);
  EXPECT_EQ(ProgressWatch::minBytes(1, 100), 1u);
  EXPECT_EQ(ProgressWatch::period(1000), 250);
  EXPECT_EQ(ProgressWatch::period(2), 1);
}

TEST(ProgressWatchTest, NothingWaitingIsNeverAStall) {
  ProgressWatch watch;
  int64_t now = 0;
  // Streams waiting on a slow origin (or a body held back for one): nothing waits on the
  // client, however long.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(watch.check(now += kPeriod, false, 7, kTimeout, 100), Verdict::kFine);
  // Output appears and then sits: counted from the last check that saw nothing waiting.
  for (uint32_t i = 1; i < ProgressWatch::kChecksPerTimeout; ++i) {
    EXPECT_EQ(watch.check(now += kPeriod, true, 7, kTimeout, 100), Verdict::kFine);
  }
  EXPECT_EQ(watch.check(now += kPeriod, true, 7, kTimeout, 100), Verdict::kStalled);
}

TEST(ProgressWatchTest, AGapWithNothingWaitingOrAResetStartsAFreshWindow) {
  ProgressWatch watch;
  int64_t now = 0;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(watch.check(now += kPeriod, true, 5, kTimeout, 1), Verdict::kFine);
  EXPECT_EQ(watch.check(now += kPeriod, false, 5, kTimeout, 1), Verdict::kFine);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(watch.check(now += kPeriod, true, 5, kTimeout, 1), Verdict::kFine);
  EXPECT_EQ(watch.check(now += kPeriod, true, 5, kTimeout, 1), Verdict::kStalled);
  watch.reset();
  EXPECT_EQ(watch.check(now += kPeriod, true, 5, kTimeout, 1), Verdict::kFine);
  EXPECT_EQ(watch.movedSince(9), 4u);
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
