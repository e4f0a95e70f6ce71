#include "storage/tiered_store.h"

#include <algorithm>
#include <cmath>

#include "cache/vary.h"

namespace ec::storage {

TieredStore::TieredStore(std::unique_ptr<MemoryStore> memory,
                         std::vector<std::unique_ptr<DiskStore>> disks,
                         const TieredStoreOptions& options)
    : memory_(std::move(memory)), disks_(std::move(disks)), options_(options) {}

TieredStore::~TieredStore() = default;

DiskStore* TieredStore::diskFor(std::string_view primary) const {
  if (disks_.empty()) return nullptr;
  DiskStore* disk = disks_[disk::keyHash(primary) % disks_.size()].get();
  return disk->up() ? disk : nullptr;
}

bool TieredStore::admitToMemory(uint64_t bytes) {
  if (options_.admission == TieredStoreOptions::Admission::kAll || disks_.empty()) return true;
  // splitmix64 over a counter: a lock-free, seeded uniform draw in [0, 1).
  uint64_t z = options_.seed + 0x9e3779b97f4a7c15ull * (draws_.fetch_add(1) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
  const bool admit = u < std::exp(-static_cast<double>(bytes) / options_.admission_scale_bytes);
  if (!admit) rejected_.fetch_add(1, std::memory_order_relaxed);
  return admit;
}

void TieredStore::promoteFromDisk(std::string_view primary, const http::Fields& request,
                                  const ObjectRef& object) {
  // Only whole bodies: the memory tier charges an object when it takes it in (and a partial
  // one, read for one range, holds only that range).
  if (object->body()->state() != Body::State::kComplete || object->body()->partial() ||
      object->body()->fileBacked()) {
    return;
  }
  const uint64_t size = object->meta().content_length >= 0
                            ? static_cast<uint64_t>(object->meta().content_length)
                            : object->body()->available();
  // The disk read may already have drawn (findAsync): one draw per hit.
  const bool admit = object->admission() != CachedObject::Admission::kUndecided
                         ? object->admission() == CachedObject::Admission::kAdmit
                         : admitToMemory(size);
  if (!admit) return;
  const auto secondary = cache::secondaryKey(object->meta().vary_names, request);
  if (!secondary) return;
  memory_->insert(primary, *secondary, object);
  promotions_.fetch_add(1, std::memory_order_relaxed);
}

ObjectRef TieredStore::find(std::string_view primary, const http::Fields& request) {
  if (ObjectRef object = memory_->find(primary, request)) {
    memory_hits_.fetch_add(1, std::memory_order_relaxed);
    return object;
  }
  if (DiskStore* disk = diskFor(primary)) {
    if (ObjectRef object = disk->find(primary, request)) {
      disk_hits_.fetch_add(1, std::memory_order_relaxed);
      promoteFromDisk(primary, request, object);
      return object;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

ObjectRef TieredStore::findAsync(std::string_view primary, const http::Fields& request,
                                 std::function<void(ObjectRef)> done, bool* pending, Tier* tier,
                                 bool allow_views) {
  *pending = false;
  *tier = Tier::kNone;
  if (ObjectRef object = memory_->find(primary, request)) {
    memory_hits_.fetch_add(1, std::memory_order_relaxed);
    *tier = Tier::kMemory;
    return object;
  }
  DiskStore* disk = diskFor(primary);
  if (!disk) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  // The caller promotes on its own thread (promoteFromDisk) where the request still exists.
  auto wrapped = [this, done = std::move(done), primary_copy = std::string(primary)](
                     ObjectRef object) mutable {
    if (object) {
      disk_hits_.fetch_add(1, std::memory_order_relaxed);
    } else {
      misses_.fetch_add(1, std::memory_order_relaxed);
    }
    done(std::move(object));
  };
  // The admission draw happens once the size is known, on the I/O thread: an object headed for
  // memory is read into private memory, any other is served from the file (zero copy).
  ObjectRef object = disk->findAsync(primary, request, std::move(wrapped), pending, allow_views,
                                     [this](uint64_t size) { return admitToMemory(size); });
  if (object) {
    // A write still in flight: it is as good as memory (and holds its body in memory).
    memory_hits_.fetch_add(1, std::memory_order_relaxed);
    *tier = Tier::kMemory;
    return object;
  }
  if (*pending) {
    *tier = Tier::kDisk;
  } else {
    misses_.fetch_add(1, std::memory_order_relaxed);
  }
  return nullptr;
}

void TieredStore::insert(std::string_view primary, std::string_view secondary, ObjectRef object) {
  inserts_.fetch_add(1, std::memory_order_relaxed);
  const int64_t length = object->meta().content_length;
  const bool admit = admitToMemory(length >= 0 ? static_cast<uint64_t>(length) : 0);
  if (DiskStore* disk = diskFor(primary)) {
    disk->insert(primary, secondary, object);
  }
  if (admit) {
    memory_->insert(primary, secondary, std::move(object));
  } else {
    memory_->eraseAll(primary);  // whatever memory held for the key is outdated now
  }
}

bool TieredStore::eraseIf(std::string_view primary, std::string_view secondary,
                          const CachedObject* object) {
  bool erased = memory_->eraseIf(primary, secondary, object);
  for (auto& disk : disks_) erased = disk->eraseIf(primary, secondary, object) || erased;
  return erased;
}

size_t TieredStore::eraseAll(std::string_view primary) {
  size_t removed = memory_->eraseAll(primary);
  if (DiskStore* disk = diskFor(primary)) removed = std::max(removed, disk->eraseAll(primary));
  return removed;
}

void TieredStore::noteGrowth(const CachedObject* object, size_t new_charged_bytes) {
  memory_->noteGrowth(object, new_charged_bytes);
  for (auto& disk : disks_) disk->noteGrowth(object, new_charged_bytes);
}

Store::Stats TieredStore::stats() const {
  // Bytes are what both tiers hold; objects are counted once: nearly every object in memory is
  // also on disk, so the larger of the two counts is the number of distinct objects held.
  Stats stats = memory_->stats();
  uint64_t disk_objects = 0;
  for (const auto& disk : disks_) {
    const Stats d = disk->stats();
    stats.bytes += d.bytes;
    disk_objects += d.objects;
    stats.evictions += d.evictions;
  }
  stats.objects = std::max<uint64_t>(stats.objects, disk_objects);
  stats.inserts = inserts_.load(std::memory_order_relaxed);
  stats.hits = memory_hits_.load(std::memory_order_relaxed) + disk_hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  return stats;
}

void TieredStore::settleForTest() {
  for (auto& disk : disks_) disk->settleForTest();
}

}  // namespace ec::storage
