#pragma once
// CachedObject: one stored response, the unit every Store indexes and evicts: its immutable
// metadata (cache::ObjectMeta) and its shared, possibly still filling Body. Held through
// ObjectRef (a shared_ptr): eviction only drops the store's reference, so a reader that holds
// one keeps streaming. A 304 update builds a NEW CachedObject sharing the old Body.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "cache/object_meta.h"
#include "storage/body.h"

namespace ec::storage {

class CachedObject {
 public:
  // Estimated cost of a store's index entry for one object (entry struct, hash-node, policy
  // links, shared_ptr control block), charged with the object so the byte bound holds.
  static constexpr size_t kIndexOverheadBytes = 192;

  // `body` must not be null (a HEAD-only or empty response still gets an empty Body).
  CachedObject(cache::ObjectMeta meta, std::shared_ptr<Body> body);

  const cache::ObjectMeta& meta() const { return meta_; }
  const std::shared_ptr<Body>& body() const { return body_; }

  // The memory tier's admission verdict when a disk read already drew it (set before the
  // object is handed out; TieredStore::promoteFromDisk then does not draw again).
  enum class Admission : uint8_t { kUndecided, kAdmit, kReject };
  Admission admission() const { return admission_; }
  void setAdmission(Admission admission) { admission_ = admission; }

  // Meta (head, validators, vary names) + body + index overhead. Grows while the body fills.
  size_t chargedBytes() const { return meta_bytes_ + body_->chargedBytes(); }

  // Which shard of a memory store last took this object: a hint that lets noteGrowth() lock
  // one shard instead of searching them all (it still searches if the hint is stale).
  static constexpr uint32_t kNoShard = UINT32_MAX;
  uint32_t memoryShardHint() const { return memory_shard_hint_.load(std::memory_order_relaxed); }
  void setMemoryShardHint(uint32_t shard) const {
    memory_shard_hint_.store(shard, std::memory_order_relaxed);
  }

 private:
  cache::ObjectMeta meta_;
  std::shared_ptr<Body> body_;
  size_t meta_bytes_;  // fixed: meta never changes
  Admission admission_ = Admission::kUndecided;
  mutable std::atomic<uint32_t> memory_shard_hint_{kNoShard};
};

using ObjectRef = std::shared_ptr<CachedObject>;

}  // namespace ec::storage
