#pragma once
// EvictionPolicy: the replacement order of one memory-tier shard, byte-sized. It sees only
// intrusive PolicyNodes (charge, key hash, a few policy bits), never keys or objects, so the
// same code runs inside MemoryStore and inside bench/micro/eviction_sim.cc on synthetic traces.
// Not thread-safe: the owning shard's mutex guards it.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ec::storage {

// The average object size the shard's hash tables (MemoryStore's index, S3-FIFO's ghost index)
// are sized for when the shard is created. Growing an std::unordered_map rehashes every node at
// once, under the shard lock, stalling every worker whose key falls in that shard: 490 ms at 3M
// entries on this machine (docs/design/memory-tier.md). Sized up front, a table only grows when
// the objects turn out smaller than this on average. The bucket arrays cost 8 bytes per bucket,
// about 0.3% of the capacity over the three tables, and are not charged to it.
inline constexpr uint64_t kIndexSizingObjectBytes = 8 * 1024;
inline size_t expectedObjects(uint64_t capacity_bytes) {
  return static_cast<size_t>(capacity_bytes / kIndexSizingObjectBytes);
}

// Embedded in whatever the store indexes. The policy owns prev/next/freq/queue while the node is
// admitted; the caller sets charge and key_hash before admit() and keeps the node alive until
// remove() or until evict() returns it.
struct PolicyNode {
  PolicyNode* prev = nullptr;
  PolicyNode* next = nullptr;
  uint64_t charge = 0;    // bytes this node holds, including its index overhead
  uint64_t key_hash = 0;  // identity across evictions (S3-FIFO's ghost queue remembers it)
  uint8_t freq = 0;       // policy-private
  uint8_t queue = 0;      // policy-private
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  // A new node enters the cache.
  virtual void admit(PolicyNode* node) = 0;
  // The node was read (a hit).
  virtual void touch(PolicyNode* node) = 0;
  // `replacement` takes the place of `node` (same key, new object: a 304 update or a refresh).
  // It inherits the position and frequency: the key has proven itself, the bytes are new.
  virtual void replace(PolicyNode* node, PolicyNode* replacement) = 0;
  // The node leaves without being a victim (purge, compare-and-erase): not remembered as a ghost.
  virtual void remove(PolicyNode* node) = 0;
  // The node's charge changed (its body is still filling).
  virtual void recharge(PolicyNode* node, uint64_t charge) = 0;
  // Picks a victim, unlinks it and returns it; nullptr when empty. The caller drops it.
  virtual PolicyNode* evict() = 0;

  virtual uint64_t bytes() const = 0;
  virtual size_t count() const = 0;
};

namespace detail {

// A doubly linked list of PolicyNodes with its byte total; front is newest.
class NodeList {
 public:
  bool empty() const { return head_ == nullptr; }
  uint64_t bytes() const { return bytes_; }
  size_t count() const { return count_; }
  PolicyNode* back() const { return tail_; }

  void pushFront(PolicyNode* node) {
    node->prev = nullptr;
    node->next = head_;
    if (head_ != nullptr) {
      head_->prev = node;
    } else {
      tail_ = node;
    }
    head_ = node;
    bytes_ += node->charge;
    ++count_;
  }

  void unlink(PolicyNode* node) {
    (node->prev != nullptr ? node->prev->next : head_) = node->next;
    (node->next != nullptr ? node->next->prev : tail_) = node->prev;
    node->prev = node->next = nullptr;
    bytes_ -= node->charge;
    --count_;
  }

  // Puts `replacement` where `node` was.
  void swap(PolicyNode* node, PolicyNode* replacement) {
    replacement->prev = node->prev;
    replacement->next = node->next;
    (node->prev != nullptr ? node->prev->next : head_) = replacement;
    (node->next != nullptr ? node->next->prev : tail_) = replacement;
    node->prev = node->next = nullptr;
    bytes_ = bytes_ - node->charge + replacement->charge;
  }

  void recharge(PolicyNode* node, uint64_t charge) {
    bytes_ = bytes_ - node->charge + charge;
    node->charge = charge;
  }

 private:
  PolicyNode* head_ = nullptr;
  PolicyNode* tail_ = nullptr;
  uint64_t bytes_ = 0;
  size_t count_ = 0;
};

}  // namespace detail
}  // namespace ec::storage
