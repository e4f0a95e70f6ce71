#pragma once
// MemoryStore: the memory tier. A byte-bounded Store sharded by primary-key hash, one mutex and
// one replacement policy (S3-FIFO by default, LRU for comparison) per shard. Everything an entry
// holds is charged: body chunks, meta strings, keys and an index-overhead estimate. The bound is
// per shard (capacity / shards), so the total never exceeds capacity_bytes; an object larger
// than one shard's share is refused like one over max_object_bytes (effectiveMaxObjectBytes()).
// Critical sections are short: entries are allocated before the lock is taken, and objects
// evicted under the lock are released after it is dropped.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/eviction_policy.h"
#include "storage/store.h"

namespace ec::storage {

struct MemoryStoreOptions {
  uint64_t capacity_bytes = 0;
  size_t shards = 16;
  uint64_t max_object_bytes = 0;  // larger objects are streamed through, not stored
  enum class Policy { kS3Fifo, kLru } policy = Policy::kS3Fifo;
};

std::unique_ptr<EvictionPolicy> makeEvictionPolicy(MemoryStoreOptions::Policy policy,
                                                   uint64_t capacity_bytes);

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const MemoryStoreOptions& options);
  ~MemoryStore() override;

  ObjectRef find(std::string_view primary, const http::Fields& request) override;
  void insert(std::string_view primary, std::string_view secondary, ObjectRef object) override;
  bool eraseIf(std::string_view primary, std::string_view secondary,
               const CachedObject* object) override;
  size_t eraseAll(std::string_view primary) override;
  void noteGrowth(const CachedObject* object, size_t new_charged_bytes) override;
  Stats stats() const override;

  uint64_t capacityBytes() const { return shard_capacity_ * shards_.size(); }
  // min(max_object_bytes, capacity / shards): the largest charge insert() accepts.
  uint64_t effectiveMaxObjectBytes() const { return max_object_bytes_; }
  // Buckets of shard 0's index (its tables are sized at construction: eviction_policy.h).
  size_t indexBucketsForTest() const { return shards_.front()->index.bucket_count(); }

 private:
  struct Primary;
  struct Entry : PolicyNode {
    std::string secondary;
    ObjectRef object;
    Primary* owner = nullptr;
    size_t key_bytes = 0;  // primary + secondary + vary names, charged on top of the object
  };
  struct Primary {
    std::string key;
    std::vector<std::string> vary_names;
    std::vector<std::unique_ptr<Entry>> variants;  // few: one unless the response varies
  };
  // A primary key with its hash, computed once per call: it picks the shard and is the hash
  // inside the shard's index too.
  struct HashedKey {
    std::string_view text;
    size_t hash;
    bool operator==(const HashedKey& other) const { return text == other.text; }
  };
  struct HashedKeyHash {
    size_t operator()(const HashedKey& key) const { return key.hash; }
  };
  static HashedKey hashed(std::string_view primary) {
    return {primary, std::hash<std::string_view>{}(primary)};
  }
  struct Shard {
    mutable std::mutex mu;
    uint32_t number = 0;  // index in shards_
    // Keyed by a view of Primary::key (stable: Primary is heap-allocated).
    std::unordered_map<HashedKey, std::unique_ptr<Primary>, HashedKeyHash> index;
    std::unordered_map<const CachedObject*, Entry*> by_object;  // for noteGrowth()
    std::unique_ptr<EvictionPolicy> policy;
    uint64_t evictions = 0;
    uint64_t inserts = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  // Things whose destruction (object bodies, entries) waits until the shard lock is released.
  struct Graveyard {
    std::vector<std::unique_ptr<Entry>> entries;
    std::vector<std::unique_ptr<Primary>> primaries;
  };

  Shard& shardFor(const HashedKey& key);
  // Removes the variant; if `only_if` is not null, only while it is still that object.
  bool eraseVariant(std::string_view primary, std::string_view secondary,
                    const CachedObject* only_if);
  enum class IfEmpty { kErasePrimary, kKeepPrimary };
  // Unlinks `entry` from its primary (and, unless kept, the primary from the index when it
  // empties). The caller has already taken it out of the policy.
  void detach(Shard& shard, Entry* entry, Graveyard& graveyard,
              IfEmpty if_empty = IfEmpty::kErasePrimary);
  void evictToFit(Shard& shard, Graveyard& graveyard);
  // noteGrowth() for one shard; false when the object is not in it.
  bool noteGrowthIn(Shard& shard, const CachedObject* object, size_t new_charged_bytes);
  void dropAllVariants(Shard& shard, Primary& primary, Graveyard& graveyard, IfEmpty if_empty);

  std::vector<std::unique_ptr<Shard>> shards_;
  uint64_t shard_capacity_;
  uint64_t max_object_bytes_;
};

}  // namespace ec::storage
