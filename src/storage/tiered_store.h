#pragma once
// TieredStore: the two-tier facade. The memory tier (MemoryStore) answers hot objects; the disk
// tier (one DiskStore per configured file, chosen by key hash) holds everything cacheable up to
// its size limit and survives restarts. Every insert goes to disk; the memory tier takes an
// object only if the admission policy lets it in (size-aware: P(admit) = exp(-size / scale),
// like the upload frontend's exponential admission), and a disk hit is promoted to memory under
// the same policy. find() may block on disk (tests, tools); event loops use findAsync().

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "storage/disk_store.h"
#include "storage/memory_store.h"

namespace ec::storage {

struct TieredStoreOptions {
  enum class Admission { kAll, kExponential } admission = Admission::kExponential;
  double admission_scale_bytes = 1 << 20;  // exp(-size/scale): 256 KiB 78%, 1 MiB 37%, 4 MiB 2%
  uint64_t seed = 1;
};

class TieredStore final : public Store {
 public:
  enum class Tier : uint8_t { kNone, kMemory, kDisk };

  TieredStore(std::unique_ptr<MemoryStore> memory, std::vector<std::unique_ptr<DiskStore>> disks,
              const TieredStoreOptions& options);
  ~TieredStore() override;

  ObjectRef find(std::string_view primary, const http::Fields& request) override;
  void insert(std::string_view primary, std::string_view secondary, ObjectRef object) override;
  bool eraseIf(std::string_view primary, std::string_view secondary,
               const CachedObject* object) override;
  size_t eraseAll(std::string_view primary) override;
  void noteGrowth(const CachedObject* object, size_t new_charged_bytes) override;
  Stats stats() const override;

  // Non-blocking lookup. Returns the object when memory (or a write still in flight) answers
  // (*tier says which); otherwise, when a disk may hold it, *pending = true and done(object or
  // nullptr) runs later on an I/O thread; else a miss.
  // allow_views: see DiskStore::findAsync (partial() or fileBacked() bodies may come back).
  ObjectRef findAsync(std::string_view primary, const http::Fields& request,
                      std::function<void(ObjectRef)> done, bool* pending, Tier* tier,
                      bool allow_views = false);

  // A disk hit found through findAsync() goes to memory if admitted (call on the caller's
  // thread, with the request that found it). Objects still filling from disk stay out.
  void promoteFromDisk(std::string_view primary, const http::Fields& request,
                       const ObjectRef& object);

  // Would the admission policy let an object of `bytes` into memory? (Draws a random number.)
  bool admitToMemory(uint64_t bytes);

  MemoryStore& memory() { return *memory_; }
  const std::vector<std::unique_ptr<DiskStore>>& disks() const { return disks_; }
  uint64_t memoryHits() const { return memory_hits_.load(std::memory_order_relaxed); }
  uint64_t diskHits() const { return disk_hits_.load(std::memory_order_relaxed); }
  uint64_t promotions() const { return promotions_.load(std::memory_order_relaxed); }
  uint64_t admissionRejects() const { return rejected_.load(std::memory_order_relaxed); }

  void settleForTest();

 private:
  DiskStore* diskFor(std::string_view primary) const;

  std::unique_ptr<MemoryStore> memory_;
  std::vector<std::unique_ptr<DiskStore>> disks_;
  TieredStoreOptions options_;
  std::atomic<uint64_t> draws_{0};
  std::atomic<uint64_t> memory_hits_{0};
  std::atomic<uint64_t> disk_hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> inserts_{0};
  std::atomic<uint64_t> promotions_{0};
  std::atomic<uint64_t> rejected_{0};
};

}  // namespace ec::storage
