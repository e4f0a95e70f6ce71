#include "storage/memory_store.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>

#include "base/check.h"
#include "cache/vary.h"
#include "storage/lru_policy.h"
#include "storage/s3_fifo_policy.h"

namespace ec::storage {
namespace {

uint64_t variantHash(std::string_view primary, std::string_view secondary) {
  const uint64_t h1 = std::hash<std::string_view>{}(primary);
  const uint64_t h2 = std::hash<std::string_view>{}(secondary);
  return h1 ^ (h2 + 0x9e3779b97f4a7c15ull + (h1 << 6) + (h1 >> 2));
}

size_t varyBytes(const std::vector<std::string>& names) {
  size_t bytes = 0;
  for (const std::string& name : names) bytes += name.size() + sizeof(std::string);
  return bytes;
}

}  // namespace

std::unique_ptr<EvictionPolicy> makeEvictionPolicy(MemoryStoreOptions::Policy policy,
                                                   uint64_t capacity_bytes) {
  switch (policy) {
    case MemoryStoreOptions::Policy::kLru:
      return std::make_unique<LruPolicy>();
    case MemoryStoreOptions::Policy::kS3Fifo:
      break;
  }
  return std::make_unique<S3FifoPolicy>(capacity_bytes);
}

MemoryStore::MemoryStore(const MemoryStoreOptions& options)
    : shard_capacity_(0), max_object_bytes_(0) {
  EC_CHECK(options.shards > 0);
  shard_capacity_ = options.capacity_bytes / options.shards;
  max_object_bytes_ = std::min<uint64_t>(options.max_object_bytes, shard_capacity_);
  shards_.reserve(options.shards);
  for (size_t i = 0; i < options.shards; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->number = static_cast<uint32_t>(i);
    shard->policy = makeEvictionPolicy(options.policy, shard_capacity_);
    shard->index.reserve(expectedObjects(shard_capacity_));
    shard->by_object.reserve(expectedObjects(shard_capacity_));
    shards_.push_back(std::move(shard));
  }
}

MemoryStore::~MemoryStore() = default;

MemoryStore::Shard& MemoryStore::shardFor(const HashedKey& key) {
  // Mix before reducing: std::hash of a string may be weak in its low bits for some libraries.
  uint64_t h = key.hash;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return *shards_[h % shards_.size()];
}

ObjectRef MemoryStore::find(std::string_view primary, const http::Fields& request) {
  const HashedKey key = hashed(primary);
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    ++shard.misses;
    return nullptr;
  }
  Primary& record = *it->second;
  // Without Vary the secondary key is "" (cache/vary.h); skip building it on the hot path.
  std::optional<std::string> secondary;
  if (!record.vary_names.empty()) {
    secondary = cache::secondaryKey(record.vary_names, request);
    if (!secondary) {  // Vary: * never matches
      ++shard.misses;
      return nullptr;
    }
  }
  const std::string_view wanted = secondary ? std::string_view(*secondary) : std::string_view();
  for (const std::unique_ptr<Entry>& entry : record.variants) {
    if (entry->secondary == wanted) {
      shard.policy->touch(entry.get());
      ++shard.hits;
      return entry->object;
    }
  }
  ++shard.misses;
  return nullptr;
}

void MemoryStore::insert(std::string_view primary, std::string_view secondary, ObjectRef object) {
  EC_CHECK(object != nullptr);
  const std::vector<std::string>& vary_names = object->meta().vary_names;
  const size_t key_bytes = primary.size() + secondary.size() + varyBytes(vary_names);
  const uint64_t charge = object->chargedBytes() + key_bytes;
  const bool known_too_large =
      object->meta().content_length >= 0 &&
      static_cast<uint64_t>(object->meta().content_length) > max_object_bytes_;
  if (charge > max_object_bytes_ || known_too_large) {
    // Refused: the proxy streams it through. The variant it would replace is outdated now.
    eraseVariant(primary, secondary, nullptr);
    return;
  }

  // Allocate outside the lock.
  auto entry = std::make_unique<Entry>();
  entry->secondary.assign(secondary);
  entry->object = std::move(object);
  entry->key_bytes = key_bytes;
  entry->key_hash = variantHash(primary, secondary);
  auto fresh_primary = std::make_unique<Primary>();
  // Grows only when something is evicted or replaced. Reserving it before the lock (as this did)
  // cost two allocations on every insert to save one, under the lock, on some.
  Graveyard graveyard;

  const HashedKey key = hashed(primary);
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mu);
  // Charged under the lock, after any noteGrowth() that found nothing here (see noteGrowth).
  entry->charge = entry->object->chargedBytes() + key_bytes;
  if (entry->charge > max_object_bytes_) {
    graveyard.entries.push_back(std::move(entry));
    return;  // grew past the limit since the check above; the writer erases what it replaces
  }
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    fresh_primary->key.assign(primary);
    fresh_primary->vary_names = vary_names;
    const std::string_view view = fresh_primary->key;
    it = shard.index.emplace(HashedKey{view, key.hash}, std::move(fresh_primary)).first;
  }
  Primary& record = *it->second;
  if (record.vary_names != vary_names) {
    dropAllVariants(shard, record, graveyard, IfEmpty::kKeepPrimary);
    record.vary_names = vary_names;
  }
  entry->owner = &record;
  Entry* raw = entry.get();
  auto same = std::find_if(record.variants.begin(), record.variants.end(),
                           [&](const auto& e) { return e->secondary == secondary; });
  if (same != record.variants.end()) {
    shard.policy->replace(same->get(), raw);
    shard.by_object.erase((*same)->object.get());
    graveyard.entries.push_back(std::move(*same));
    *same = std::move(entry);
  } else {
    shard.policy->admit(raw);
    record.variants.push_back(std::move(entry));
  }
  shard.by_object[raw->object.get()] = raw;
  raw->object->setMemoryShardHint(shard.number);
  ++shard.inserts;
  evictToFit(shard, graveyard);
  // `graveyard` and any unused `fresh_primary` die after the lock (declared before it).
}

bool MemoryStore::eraseIf(std::string_view primary, std::string_view secondary,
                          const CachedObject* object) {
  if (object == nullptr) return false;
  return eraseVariant(primary, secondary, object);
}

bool MemoryStore::eraseVariant(std::string_view primary, std::string_view secondary,
                               const CachedObject* only_if) {
  Graveyard graveyard;
  const HashedKey key = hashed(primary);
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return false;
  for (const std::unique_ptr<Entry>& entry : it->second->variants) {
    if (entry->secondary != secondary) continue;
    if (only_if != nullptr && entry->object.get() != only_if) return false;
    shard.policy->remove(entry.get());
    detach(shard, entry.get(), graveyard);
    return true;
  }
  return false;
}

size_t MemoryStore::eraseAll(std::string_view primary) {
  Graveyard graveyard;
  const HashedKey key = hashed(primary);
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return 0;
  const size_t removed = it->second->variants.size();
  dropAllVariants(shard, *it->second, graveyard, IfEmpty::kErasePrimary);
  return removed;
}

void MemoryStore::noteGrowth(const CachedObject* object, size_t new_charged_bytes) {
  // The object does not know its key; insert() left a hint of its shard, so normally one
  // shard lock is taken. If the hint is stale (another store took the object since, or it was
  // dropped), every shard is searched. No update is lost to a concurrent insert: insert()
  // reads chargedBytes() under the same shard lock.
  const uint32_t hint = object->memoryShardHint();
  if (hint < shards_.size() && noteGrowthIn(*shards_[hint], object, new_charged_bytes)) return;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    if (shard->number != hint && noteGrowthIn(*shard, object, new_charged_bytes)) return;
  }
}

bool MemoryStore::noteGrowthIn(Shard& shard, const CachedObject* object, size_t new_charged_bytes) {
  Graveyard graveyard;
  std::lock_guard lock(shard.mu);
  auto it = shard.by_object.find(object);
  if (it == shard.by_object.end()) return false;
  Entry* entry = it->second;
  const uint64_t charge = new_charged_bytes + entry->key_bytes;
  if (charge > max_object_bytes_) {
    shard.policy->remove(entry);
    detach(shard, entry, graveyard);
    return true;
  }
  shard.policy->recharge(entry, charge);
  evictToFit(shard, graveyard);
  return true;
}

Store::Stats MemoryStore::stats() const {
  Stats total;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    std::lock_guard lock(shard->mu);
    total.bytes += shard->policy->bytes();
    total.objects += shard->policy->count();
    total.evictions += shard->evictions;
    total.inserts += shard->inserts;
    total.hits += shard->hits;
    total.misses += shard->misses;
  }
  return total;
}

void MemoryStore::detach(Shard& shard, Entry* entry, Graveyard& graveyard, IfEmpty if_empty) {
  shard.by_object.erase(entry->object.get());
  Primary* owner = entry->owner;
  auto& variants = owner->variants;
  auto it = std::find_if(variants.begin(), variants.end(),
                         [&](const auto& e) { return e.get() == entry; });
  EC_DCHECK(it != variants.end());
  graveyard.entries.push_back(std::move(*it));
  variants.erase(it);
  if (variants.empty() && if_empty == IfEmpty::kErasePrimary) {
    auto node = shard.index.extract(hashed(owner->key));
    graveyard.primaries.push_back(std::move(node.mapped()));
  }
}

void MemoryStore::dropAllVariants(Shard& shard, Primary& primary, Graveyard& graveyard,
                                  IfEmpty if_empty) {
  // detach() may erase the primary with its last variant, so never touch it after that one.
  for (size_t left = primary.variants.size(); left > 0; --left) {
    Entry* entry = primary.variants.back().get();
    shard.policy->remove(entry);
    detach(shard, entry, graveyard, if_empty);
  }
}

void MemoryStore::evictToFit(Shard& shard, Graveyard& graveyard) {
  while (shard.policy->bytes() > shard_capacity_) {
    PolicyNode* victim = shard.policy->evict();
    if (victim == nullptr) break;
    detach(shard, static_cast<Entry*>(victim), graveyard);
    ++shard.evictions;
  }
}

}  // namespace ec::storage
