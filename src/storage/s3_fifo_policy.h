#pragma once
// S3FifoPolicy: S3-FIFO replacement (Yang et al., "FIFO queues are all you need for cache
// eviction", SOSP 2023), sized in bytes. New keys enter a small FIFO (~10% of the bytes); a key
// read while there moves to the main FIFO when it reaches the tail, a key never read leaves and
// is remembered (hash only) in a ghost FIFO. A key found in the ghost on insertion goes straight
// to main. Main is a FIFO with reinsertion: a tail node with a non-zero 2-bit frequency is
// reinserted at the head with its frequency decremented. Hits only bump a counter, so the shard
// does no list surgery on reads, and one-hit wonders (most of a CDN's long tail) leave early.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "storage/eviction_policy.h"

namespace ec::storage {

class S3FifoPolicy final : public EvictionPolicy {
 public:
  enum Queue : uint8_t { kNone = 0, kSmall = 1, kMain = 2 };
  // Share of the capacity given to the small FIFO, in percent (the paper's 10%).
  static constexpr uint64_t kSmallPercent = 10;
  // Reads while in the small queue needed to be promoted to main.
  static constexpr uint8_t kPromoteFreq = 1;
  static constexpr uint8_t kMaxFreq = 3;  // 2 bits

  explicit S3FifoPolicy(uint64_t capacity_bytes);

  void admit(PolicyNode* node) override;
  void touch(PolicyNode* node) override;
  void replace(PolicyNode* node, PolicyNode* replacement) override;
  void remove(PolicyNode* node) override;
  void recharge(PolicyNode* node, uint64_t charge) override;
  PolicyNode* evict() override;
  uint64_t bytes() const override { return small_.bytes() + main_.bytes(); }
  size_t count() const override { return small_.count() + main_.count(); }

  static Queue queueOf(const PolicyNode& node) { return static_cast<Queue>(node.queue); }
  uint64_t smallBytes() const { return small_.bytes(); }
  uint64_t mainBytes() const { return main_.bytes(); }
  uint64_t ghostBytes() const { return ghost_bytes_; }
  bool ghostContainsForTest(uint64_t key_hash) const { return ghost_index_.count(key_hash) != 0; }
  size_t ghostBucketsForTest() const { return ghost_index_.bucket_count(); }

 private:
  struct Ghost {
    uint64_t key_hash;
    uint64_t seq;  // matches ghost_index_ only for the newest record of this hash
    uint64_t charge;
  };

  using GhostIndex = std::unordered_map<uint64_t, uint64_t>;  // key_hash -> seq of newest record

  detail::NodeList& listOf(const PolicyNode& node);
  void rememberGhost(const PolicyNode& node);
  // True (and forgets it) when key_hash left recently without being read.
  bool takeGhost(uint64_t key_hash);
  void forgetOldestGhost();

  uint64_t small_target_;
  uint64_t ghost_capacity_;  // the ghost remembers as many bytes as main holds
  detail::NodeList small_;
  detail::NodeList main_;
  // The ghost FIFO is a ring that only grows, and index nodes are recycled through
  // spare_ghost_node_, so in steady state remembering a ghost allocates nothing (it runs under
  // the shard lock on every eviction).
  std::vector<Ghost> ghost_ring_;
  size_t ghost_head_ = 0;  // oldest record
  size_t ghost_size_ = 0;
  GhostIndex ghost_index_;
  GhostIndex::node_type spare_ghost_node_;
  uint64_t ghost_bytes_ = 0;
  uint64_t ghost_seq_ = 0;
};

}  // namespace ec::storage
