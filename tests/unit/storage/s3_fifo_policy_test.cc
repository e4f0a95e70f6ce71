// S3-FIFO and LRU replacement order, on bare PolicyNodes (no store), sized in bytes.

#include "storage/s3_fifo_policy.h"

#include <gtest/gtest.h>

#include <vector>

#include "storage/lru_policy.h"

namespace ec::storage {
namespace {

constexpr uint64_t kCapacity = 100;  // small queue target: 10 bytes
constexpr uint64_t kCharge = 10;

// Nodes with hash i and charge kCharge; the store-side loop evicts until bytes <= capacity.
class Harness {
 public:
  explicit Harness(EvictionPolicy& policy, size_t n) : policy_(policy), nodes_(n) {
    for (size_t i = 0; i < n; ++i) {
      nodes_[i].key_hash = i;
      nodes_[i].charge = kCharge;
    }
  }
  PolicyNode& node(size_t i) { return nodes_[i]; }
  // Admits node i, evicting until the bound holds; returns the victims' hashes in order.
  std::vector<uint64_t> admit(size_t i) {
    policy_.admit(&nodes_[i]);
    std::vector<uint64_t> victims;
    while (policy_.bytes() > kCapacity) {
      PolicyNode* victim = policy_.evict();
      EXPECT_NE(victim, nullptr);
      if (victim == nullptr) break;
      victims.push_back(victim->key_hash);
    }
    return victims;
  }

 private:
  EvictionPolicy& policy_;
  std::vector<PolicyNode> nodes_;
};

TEST(S3FifoPolicyTest, TheGhostIndexIsSizedForWhatMainHolds) {
  S3FifoPolicy policy(100 << 20);  // main (and the ghost) 90 MiB: 11,520 objects of 8 KiB
  EXPECT_GE(policy.ghostBucketsForTest(), expectedObjects(90 << 20));
  EXPECT_EQ(expectedObjects(90 << 20), size_t{11520});
}

TEST(S3FifoPolicyTest, OneHitWondersLeaveFromTheSmallQueueFirst) {
  S3FifoPolicy policy(kCapacity);
  Harness h(policy, 32);
  for (size_t i = 0; i < 10; ++i) EXPECT_TRUE(h.admit(i).empty());
  EXPECT_EQ(policy.bytes(), kCapacity);
  // Nothing was ever read: plain FIFO order, oldest first, and each is remembered as a ghost.
  EXPECT_EQ(h.admit(10), std::vector<uint64_t>{0});
  EXPECT_EQ(h.admit(11), std::vector<uint64_t>{1});
  EXPECT_TRUE(policy.ghostContainsForTest(0));
  EXPECT_TRUE(policy.ghostContainsForTest(1));
  EXPECT_EQ(policy.mainBytes(), 0u);
}

TEST(S3FifoPolicyTest, AReadObjectIsPromotedToMainInsteadOfEvicted) {
  S3FifoPolicy policy(kCapacity);
  Harness h(policy, 32);
  for (size_t i = 0; i < 10; ++i) h.admit(i);
  policy.touch(&h.node(0));
  // 0 reaches the tail first but was read: it moves to main and 1 is evicted.
  EXPECT_EQ(h.admit(10), std::vector<uint64_t>{1});
  EXPECT_EQ(S3FifoPolicy::queueOf(h.node(0)), S3FifoPolicy::kMain);
  EXPECT_EQ(policy.mainBytes(), kCharge);
  EXPECT_FALSE(policy.ghostContainsForTest(0));
}

TEST(S3FifoPolicyTest, AGhostHitIsAdmittedStraightToMain) {
  S3FifoPolicy policy(kCapacity);
  Harness h(policy, 32);
  for (size_t i = 0; i < 11; ++i) h.admit(i);  // 0 evicted to the ghost
  ASSERT_TRUE(policy.ghostContainsForTest(0));
  PolicyNode again;
  again.key_hash = 0;
  again.charge = kCharge;
  policy.admit(&again);
  EXPECT_EQ(S3FifoPolicy::queueOf(again), S3FifoPolicy::kMain);
  EXPECT_FALSE(policy.ghostContainsForTest(0));  // consumed
  PolicyNode other;
  other.key_hash = 1000;
  other.charge = kCharge;
  policy.admit(&other);
  EXPECT_EQ(S3FifoPolicy::queueOf(other), S3FifoPolicy::kSmall);
}

TEST(S3FifoPolicyTest, MainReinsertsReadObjectsAndDecrementsTheirFrequency) {
  S3FifoPolicy policy(kCapacity);
  std::vector<PolicyNode> nodes(40);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].key_hash = i;
    nodes[i].charge = kCharge;
  }
  // Fill main with 0..8 via read-then-promote.
  for (size_t i = 0; i < 9; ++i) {
    policy.admit(&nodes[i]);
    policy.touch(&nodes[i]);
  }
  policy.admit(&nodes[9]);
  policy.admit(&nodes[10]);  // 110 bytes: promotes 0..8, evicts 9 (never read)
  PolicyNode* victim = policy.evict();
  ASSERT_NE(victim, nullptr);
  EXPECT_EQ(victim->key_hash, 9u);
  ASSERT_EQ(policy.mainBytes(), 9 * kCharge);
  // Read 0 (now the oldest in main) twice: it survives two passes of the main tail.
  policy.touch(&nodes[0]);
  policy.touch(&nodes[0]);
  policy.remove(&nodes[10]);  // empty the small queue so evict() works on main
  victim = policy.evict();
  EXPECT_EQ(victim->key_hash, 1u);
  EXPECT_EQ(nodes[0].freq, 1);  // reinserted once, frequency 2 -> 1
  EXPECT_EQ(S3FifoPolicy::queueOf(nodes[0]), S3FifoPolicy::kMain);
}

TEST(S3FifoPolicyTest, FrequencySaturatesAtThree) {
  S3FifoPolicy policy(kCapacity);
  PolicyNode node;
  node.charge = kCharge;
  policy.admit(&node);
  for (int i = 0; i < 10; ++i) policy.touch(&node);
  EXPECT_EQ(node.freq, S3FifoPolicy::kMaxFreq);
}

TEST(S3FifoPolicyTest, ReplaceInheritsPositionAndRemoveLeavesNoGhost) {
  S3FifoPolicy policy(kCapacity);
  Harness h(policy, 32);
  for (size_t i = 0; i < 10; ++i) h.admit(i);
  policy.touch(&h.node(3));
  PolicyNode replacement;
  replacement.key_hash = 3;
  replacement.charge = 25;
  policy.replace(&h.node(3), &replacement);
  EXPECT_EQ(replacement.freq, 1);
  EXPECT_EQ(S3FifoPolicy::queueOf(replacement), S3FifoPolicy::kSmall);
  EXPECT_EQ(policy.bytes(), 9 * kCharge + 25);
  EXPECT_EQ(policy.count(), 10u);
  policy.remove(&h.node(5));
  EXPECT_FALSE(policy.ghostContainsForTest(5));
  EXPECT_EQ(policy.count(), 9u);
  policy.recharge(&replacement, 5);
  EXPECT_EQ(policy.bytes(), 8 * kCharge + 5);
}

TEST(S3FifoPolicyTest, GhostIsBoundedByMainCapacityInBytes) {
  S3FifoPolicy policy(kCapacity);
  std::vector<PolicyNode> nodes(1000);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].key_hash = i;
    nodes[i].charge = kCharge;
    policy.admit(&nodes[i]);
    while (policy.bytes() > kCapacity) policy.evict();
  }
  EXPECT_LE(policy.ghostBytes(), kCapacity - kCapacity / 10);
  EXPECT_FALSE(policy.ghostContainsForTest(0));         // aged out
  EXPECT_TRUE(policy.ghostContainsForTest(1000 - 11));  // recent
}

// A hot set read between scans: S3-FIFO keeps it, LRU lets a long enough scan flush it.
template <typename Policy>
size_t hotSurvivorsAfterScan(Policy& policy) {
  std::vector<PolicyNode> nodes(200);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].key_hash = i;
    nodes[i].charge = kCharge;
  }
  std::vector<bool> resident(nodes.size(), false);
  auto admit = [&](size_t i) {
    policy.admit(&nodes[i]);
    resident[i] = true;
    while (policy.bytes() > kCapacity) resident[policy.evict()->key_hash] = false;
  };
  for (size_t hot = 0; hot < 3; ++hot) admit(hot);
  for (size_t next = 3; next < nodes.size(); ++next) {
    for (size_t hot = 0; hot < 3; ++hot) {
      if (resident[hot] && next % 12 == 3) policy.touch(&nodes[hot]);
    }
    admit(next);
  }
  return resident[0] + resident[1] + resident[2];
}

TEST(S3FifoPolicyTest, FrequentObjectsSurviveAScanThatFlushesLru) {
  S3FifoPolicy s3fifo(kCapacity);
  EXPECT_EQ(hotSurvivorsAfterScan(s3fifo), 3u);
  LruPolicy lru;
  // Read once per 12 inserts, the hot objects fall out of a 10-object LRU between reads.
  EXPECT_LT(hotSurvivorsAfterScan(lru), 3u);
}

TEST(LruPolicyTest, EvictsLeastRecentlyUsed) {
  LruPolicy policy;
  std::vector<PolicyNode> nodes(3);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].key_hash = i;
    nodes[i].charge = kCharge;
    policy.admit(&nodes[i]);
  }
  policy.touch(&nodes[0]);
  EXPECT_EQ(policy.evict()->key_hash, 1u);
  EXPECT_EQ(policy.evict()->key_hash, 2u);
  EXPECT_EQ(policy.evict()->key_hash, 0u);
  EXPECT_EQ(policy.evict(), nullptr);
  EXPECT_EQ(policy.bytes(), 0u);
}

}  // namespace
}  // namespace ec::storage
