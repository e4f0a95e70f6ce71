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

}  // namespace
}  // namespace ec::proxy
