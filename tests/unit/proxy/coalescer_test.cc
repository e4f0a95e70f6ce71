#include "proxy/coalescer.h"

#include <gtest/gtest.h>

#include <thread>

namespace ec::proxy {
namespace {

TEST(Coalescer, FirstIsLeaderOthersFollowAndAllAreWokenOnTheirLoop) {
  Coalescer coalescer;
  net::EventLoop loop;
  int woken = 0;
  auto callback = std::make_shared<std::function<void(const CoalescedOutcome&)>>(
      [&](const CoalescedOutcome& outcome) {
        EXPECT_EQ(outcome.kind, CoalescedOutcome::Kind::kUncacheable);
        EXPECT_TRUE(loop.inLoopThread());
        if (++woken == 2) loop.stop();
      });
  EXPECT_EQ(coalescer.join("k", Follower{&loop, callback}), Coalescer::Role::kLeader);
  EXPECT_EQ(coalescer.join("k", Follower{&loop, callback}), Coalescer::Role::kFollower);
  EXPECT_EQ(coalescer.join("k", Follower{&loop, callback}), Coalescer::Role::kFollower);
  EXPECT_EQ(coalescer.join("other", Follower{&loop, callback}), Coalescer::Role::kLeader);
  std::thread runner([&] { loop.run(); });
  coalescer.complete("k", CoalescedOutcome{CoalescedOutcome::Kind::kUncacheable, nullptr, {}, 0});
  runner.join();
  EXPECT_EQ(woken, 2);
  EXPECT_EQ(coalescer.coalescedTotal(), 2u);
  // The key is free again: the next miss leads.
  EXPECT_EQ(coalescer.join("k", Follower{&loop, callback}), Coalescer::Role::kLeader);
}

TEST(Coalescer, AFollowerThatWentAwayIsNotCalled) {
  Coalescer coalescer;
  net::EventLoop loop;
  bool called = false;
  auto gone = std::make_shared<std::function<void(const CoalescedOutcome&)>>(
      [&](const CoalescedOutcome&) { called = true; });
  coalescer.join("k", Follower{&loop, {}});
  coalescer.join("k", Follower{&loop, gone});
  gone.reset();
  coalescer.complete("k", CoalescedOutcome{});
  loop.post([&] { loop.stop(); });
  loop.run();
  EXPECT_FALSE(called);
}

TEST(Coalescer, HitForPassExpires) {
  Coalescer coalescer;
  const WallTime now{Seconds{1000}};
  EXPECT_FALSE(coalescer.isHitForPass("k", now));
  coalescer.markHitForPass("k", now + Seconds{601});
  EXPECT_TRUE(coalescer.isHitForPass("k", now + Seconds{600}));
  EXPECT_FALSE(coalescer.isHitForPass("k", now + Seconds{601}));
  coalescer.markHitForPass("k", now + Seconds{10});
  coalescer.clearHitForPass("k");
  EXPECT_FALSE(coalescer.isHitForPass("k", now));
}

TEST(Coalescer, APurgeFencesTheFlightInProgress) {
  Coalescer coalescer;
  net::EventLoop loop;
  int old_woken = 0;
  auto old_callback = std::make_shared<std::function<void(const CoalescedOutcome&)>>(
      [&](const CoalescedOutcome&) { ++old_woken; });
  uint64_t old_flight = 0;
  ASSERT_EQ(coalescer.join("k", Follower{&loop, old_callback}, &old_flight), Coalescer::Role::kLeader);
  ASSERT_EQ(coalescer.join("k", Follower{&loop, old_callback}), Coalescer::Role::kFollower);
  coalescer.markHitForPass("k", WallTime{Seconds{2000}});

  coalescer.fence("k");
  EXPECT_EQ(coalescer.fencedTotal(), 1u);
  EXPECT_FALSE(coalescer.isHitForPass("k", WallTime{Seconds{1000}}));
  // The old fetch may not store what it receives...
  bool stored = false;
  EXPECT_FALSE(coalescer.storeIfCurrent("k", old_flight, [&] { stored = true; }));
  EXPECT_FALSE(stored);
  // ...and the next miss leads a new fetch instead of waiting for the old body.
  uint64_t new_flight = 0;
  ASSERT_EQ(coalescer.join("k", Follower{&loop, old_callback}, &new_flight), Coalescer::Role::kLeader);
  EXPECT_NE(new_flight, old_flight);
  EXPECT_TRUE(coalescer.storeIfCurrent("k", new_flight, [&] { stored = true; }));
  EXPECT_TRUE(stored);

  // The old leader completing wakes its own follower only, and leaves the new flight alone.
  coalescer.complete("k", CoalescedOutcome{}, old_flight);
  loop.post([&] { loop.stop(); });
  loop.run();
  EXPECT_EQ(old_woken, 1);
  EXPECT_EQ(coalescer.join("k", Follower{&loop, old_callback}), Coalescer::Role::kFollower);
}

TEST(Coalescer, PurgeMarksStopPromotionsThatRaceAPurge) {
  Coalescer coalescer;
  bool promoted = false;
  auto promote = [&] { promoted = true; };
  // No purge around: the promotion happens.
  uint64_t mark = coalescer.purgeMark("k");
  EXPECT_TRUE(coalescer.promoteIfUnpurged("k", mark, promote));
  EXPECT_TRUE(promoted);
  // A purge that begins after the read started: no promotion, even once it is done.
  promoted = false;
  mark = coalescer.purgeMark("k");
  coalescer.fence("k");
  coalescer.fenceDone("k");
  EXPECT_FALSE(coalescer.promoteIfUnpurged("k", mark, promote));
  // A read that started while a purge was erasing: no promotion either.
  coalescer.fence("k");
  mark = coalescer.purgeMark("k");
  coalescer.fenceDone("k");
  EXPECT_FALSE(coalescer.promoteIfUnpurged("k", mark, promote));
  EXPECT_FALSE(promoted);
  // A read that started after the purge finished promotes again.
  mark = coalescer.purgeMark("k");
  EXPECT_TRUE(coalescer.promoteIfUnpurged("k", mark, promote));
}

}  // namespace
}  // namespace ec::proxy
