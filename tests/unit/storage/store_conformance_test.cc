// StoreConformanceTest: the behaviour every Store must have, run against each implementation:
// MemoryStore with S3-FIFO and with LRU, DiskStore over a temporary file, and TieredStore (memory
// in front of disk). A disk store hands out copies read back from the file, so "the same object"
// means the same meta and body bytes (sameObject); its writes are asynchronous, so tests that
// need them on disk call settle().

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <cstdio>

#include "cache/vary.h"
#include "storage/disk_store.h"
#include "storage/memory_store.h"
#include "storage/tiered_store.h"
#include "test_objects.h"

namespace ec::storage {
namespace {

using testing::makeFillingObject;
using testing::makeObject;

struct StoreFactory {
  const char* name;
  std::function<std::unique_ptr<Store>(uint64_t capacity, uint64_t max_object)> make;
  // A tiered store counts the larger tier's objects; under concurrent erases one tier may hold an
  // object the other lost, so the count is an upper bound there.
  bool exact_object_count = true;
};

std::string bodyBytes(const ObjectRef& object) {
  std::string out;
  iovec iov[64];
  uint64_t offset = 0;
  for (;;) {
    const int n = object->body()->peek(offset, UINT64_MAX, iov, 64);
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
      offset += iov[i].iov_len;
    }
  }
  return out;
}

// The same object, or a faithful copy of it (what a disk store reads back).
::testing::AssertionResult sameObject(const ObjectRef& found, const ObjectRef& expected) {
  if (found == expected) return ::testing::AssertionSuccess();
  if (!found) return ::testing::AssertionFailure() << "not found";
  if (found->meta().head != expected->meta().head || found->meta().etag != expected->meta().etag ||
      found->meta().vary_names != expected->meta().vary_names) {
    return ::testing::AssertionFailure() << "different meta";
  }
  if (bodyBytes(found) != bodyBytes(expected)) return ::testing::AssertionFailure() << "different body";
  return ::testing::AssertionSuccess();
}

std::string tempStorePath() {
  static std::atomic<int> counter{0};
  return (std::filesystem::temp_directory_path() /
          ("ec_conformance_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
      .string();
}

std::unique_ptr<DiskStore> makeDiskStore(const std::string& path, uint64_t capacity,
                                         uint64_t max_object) {
  DiskStoreOptions options;
  options.path = path;
  options.size_bytes = capacity;
  options.segment_bytes = capacity / 16;
  options.max_object_bytes = max_object;
  options.average_object_bytes = 8 << 10;
  return DiskStore::open(options);
}

// The disk store alone, owning its file.
class TempDiskStore final : public Store {
 public:
  TempDiskStore(uint64_t capacity, uint64_t max_object)
      : path_(tempStorePath()), disk_(makeDiskStore(path_, capacity, max_object)) {}
  ~TempDiskStore() override {
    disk_.reset();
    std::remove(path_.c_str());
  }
  ObjectRef find(std::string_view p, const http::Fields& r) override { return disk_->find(p, r); }
  void insert(std::string_view p, std::string_view s, ObjectRef o) override { disk_->insert(p, s, o); }
  bool eraseIf(std::string_view p, std::string_view s, const CachedObject* o) override {
    return disk_->eraseIf(p, s, o);
  }
  size_t eraseAll(std::string_view p) override { return disk_->eraseAll(p); }
  void noteGrowth(const CachedObject* o, size_t n) override { disk_->noteGrowth(o, n); }
  Stats stats() const override { return disk_->stats(); }
  DiskStore& disk() { return *disk_; }

 private:
  std::string path_;
  std::unique_ptr<DiskStore> disk_;
};

class TempTieredStore final : public Store {
 public:
  TempTieredStore(uint64_t capacity, uint64_t max_object) : path_(tempStorePath()) {
    MemoryStoreOptions memory;
    memory.capacity_bytes = capacity / 4;
    memory.shards = 2;
    memory.max_object_bytes = max_object;
    std::vector<std::unique_ptr<DiskStore>> disks;
    disks.push_back(makeDiskStore(path_, capacity - capacity / 4, max_object));
    TieredStoreOptions options;
    options.admission = TieredStoreOptions::Admission::kAll;
    tiered_ = std::make_unique<TieredStore>(std::make_unique<MemoryStore>(memory), std::move(disks),
                                            options);
  }
  ~TempTieredStore() override {
    tiered_.reset();
    std::remove(path_.c_str());
  }
  ObjectRef find(std::string_view p, const http::Fields& r) override { return tiered_->find(p, r); }
  void insert(std::string_view p, std::string_view s, ObjectRef o) override {
    tiered_->insert(p, s, o);
  }
  bool eraseIf(std::string_view p, std::string_view s, const CachedObject* o) override {
    return tiered_->eraseIf(p, s, o);
  }
  size_t eraseAll(std::string_view p) override { return tiered_->eraseAll(p); }
  void noteGrowth(const CachedObject* o, size_t n) override { tiered_->noteGrowth(o, n); }
  Stats stats() const override { return tiered_->stats(); }
  TieredStore& tiered() { return *tiered_; }

 private:
  std::string path_;
  std::unique_ptr<TieredStore> tiered_;
};

std::unique_ptr<Store> makeMemory(uint64_t capacity, uint64_t max_object,
                                  MemoryStoreOptions::Policy policy) {
  MemoryStoreOptions options;
  options.capacity_bytes = capacity;
  options.shards = 4;
  options.max_object_bytes = max_object;
  options.policy = policy;
  return std::make_unique<MemoryStore>(options);
}

const StoreFactory kStores[] = {
    {"MemoryS3Fifo",
     [](uint64_t c, uint64_t m) { return makeMemory(c, m, MemoryStoreOptions::Policy::kS3Fifo); }},
    {"MemoryLru",
     [](uint64_t c, uint64_t m) { return makeMemory(c, m, MemoryStoreOptions::Policy::kLru); }},
    {"Disk", [](uint64_t c, uint64_t m) { return std::make_unique<TempDiskStore>(c, m); }},
    {"Tiered", [](uint64_t c, uint64_t m) { return std::make_unique<TempTieredStore>(c, m); },
     false},
};

void settleStore(Store& store) {
  if (auto* disk = dynamic_cast<TempDiskStore*>(&store)) disk->disk().settleForTest();
  if (auto* tiered = dynamic_cast<TempTieredStore*>(&store)) tiered->tiered().settleForTest();
}

constexpr uint64_t kCapacity = 4 << 20;
constexpr uint64_t kMaxObject = 512 << 10;

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(kCapacity, kMaxObject); }
  std::unique_ptr<Store> store_;
  http::Fields no_headers_;
};

TEST_P(StoreConformanceTest, MissThenHitReturnsTheSameObject) {
  EXPECT_EQ(store_->find("http://a/x", no_headers_), nullptr);
  ObjectRef object = makeObject(1000);
  store_->insert("http://a/x", "", object);
  EXPECT_TRUE(sameObject(store_->find("http://a/x", no_headers_), object));
  EXPECT_EQ(store_->find("http://a/y", no_headers_), nullptr);
  const Store::Stats stats = store_->stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.inserts, 1u);
  EXPECT_EQ(stats.objects, 1u);
  EXPECT_GE(stats.bytes, 1000u);
}

TEST_P(StoreConformanceTest, InsertReplacesTheVariantAndA304UpdateMayShareTheBody) {
  ObjectRef first = makeObject(1000);
  store_->insert("k", "", first);
  cache::ObjectMeta updated = first->meta();
  updated.etag = "\"v2\"";
  auto second = std::make_shared<CachedObject>(std::move(updated), first->body());
  store_->insert("k", "", second);
  ObjectRef found = store_->find("k", no_headers_);
  EXPECT_TRUE(sameObject(found, second));
  EXPECT_EQ(bodyBytes(found), bodyBytes(first));
  EXPECT_EQ(store_->stats().objects, 1u);
}

TEST_P(StoreConformanceTest, VariantsAreSelectedByTheVaryFieldsOfTheRequest) {
  const std::vector<std::string> vary = {"accept-encoding"};
  http::Fields gzip;
  gzip.add("Accept-Encoding", "gzip");
  http::Fields br;
  br.add("Accept-Encoding", "br");
  http::Fields none;
  ObjectRef gzip_object = makeObject(100, vary);
  ObjectRef br_object = makeObject(200, vary);
  store_->insert("k", *cache::secondaryKey(vary, gzip), gzip_object);
  store_->insert("k", *cache::secondaryKey(vary, br), br_object);
  EXPECT_TRUE(sameObject(store_->find("k", gzip), gzip_object));
  EXPECT_TRUE(sameObject(store_->find("k", br), br_object));
  settleStore(*store_);
  EXPECT_TRUE(sameObject(store_->find("k", gzip), gzip_object));
  EXPECT_TRUE(sameObject(store_->find("k", br), br_object));
  EXPECT_EQ(store_->find("k", none), nullptr);
  EXPECT_EQ(store_->stats().objects, 2u);
}

TEST_P(StoreConformanceTest, NewVaryNamesDropVariantsStoredUnderOthers) {
  const std::vector<std::string> by_encoding = {"accept-encoding"};
  const std::vector<std::string> by_language = {"accept-language"};
  http::Fields request;
  request.add("Accept-Encoding", "gzip");
  request.add("Accept-Language", "fr");
  store_->insert("k", *cache::secondaryKey(by_encoding, request), makeObject(100, by_encoding));
  ObjectRef french = makeObject(100, by_language);
  store_->insert("k", *cache::secondaryKey(by_language, request), french);
  settleStore(*store_);
  EXPECT_EQ(store_->stats().objects, 1u);
  EXPECT_TRUE(sameObject(store_->find("k", request), french));
}

TEST_P(StoreConformanceTest, VaryStarNeverMatches) {
  const std::vector<std::string> star = {"*"};
  store_->insert("k", "", makeObject(100, star));
  EXPECT_EQ(store_->find("k", no_headers_), nullptr);
}

TEST_P(StoreConformanceTest, EraseAllRemovesEveryVariant) {
  const std::vector<std::string> vary = {"accept-encoding"};
  for (const char* encoding : {"gzip", "br", "identity"}) {
    http::Fields request;
    request.add("Accept-Encoding", encoding);
    store_->insert("k", *cache::secondaryKey(vary, request), makeObject(100, vary));
  }
  store_->insert("other", "", makeObject(100));
  settleStore(*store_);
  EXPECT_EQ(store_->eraseAll("k"), 3u);
  EXPECT_EQ(store_->eraseAll("k"), 0u);
  EXPECT_EQ(store_->stats().objects, 1u);
  EXPECT_NE(store_->find("other", no_headers_), nullptr);
}

TEST_P(StoreConformanceTest, EraseIfOnlyRemovesTheSameObject) {
  ObjectRef old_object = makeObject(100);
  ObjectRef new_object = makeObject(100);
  store_->insert("k", "", old_object);
  store_->insert("k", "", new_object);
  // A stale writer (its fetch failed after a newer one was stored) must not remove the new one.
  EXPECT_FALSE(store_->eraseIf("k", "", old_object.get()));
  EXPECT_TRUE(sameObject(store_->find("k", no_headers_), new_object));
  settleStore(*store_);
  EXPECT_FALSE(store_->eraseIf("k", "", old_object.get()));
  EXPECT_FALSE(store_->eraseIf("k", "other-variant", new_object.get()));
  EXPECT_TRUE(store_->eraseIf("k", "", new_object.get()));
  EXPECT_EQ(store_->find("k", no_headers_), nullptr);
  EXPECT_FALSE(store_->eraseIf("k", "", new_object.get()));
  EXPECT_EQ(store_->stats().objects, 0u);
  EXPECT_EQ(store_->stats().bytes, 0u);
}

TEST_P(StoreConformanceTest, ObjectsOverTheSizeLimitAreRefusedAndDropTheOldVariant) {
  store_->insert("k", "", makeObject(100));
  store_->insert("k", "", makeObject(kMaxObject + 1));
  EXPECT_EQ(store_->find("k", no_headers_), nullptr);
  EXPECT_EQ(store_->stats().objects, 0u);
}

TEST_P(StoreConformanceTest, ByteBoundHoldsAfterEveryInsert) {
  std::mt19937 rng(1);
  std::lognormal_distribution<double> size(9.0, 1.5);  // median ~8 KiB, long tail
  for (int i = 0; i < 2000; ++i) {
    const size_t n = std::min<size_t>(static_cast<size_t>(size(rng)), kMaxObject - 4096);
    store_->insert("http://h/" + std::to_string(rng() % 700), "", makeObject(n));
    if (rng() % 3 == 0) store_->find("http://h/" + std::to_string(rng() % 700), no_headers_);
    ASSERT_LE(store_->stats().bytes, kCapacity) << "after insert " << i;
  }
  EXPECT_GT(store_->stats().evictions, 0u);
}

TEST_P(StoreConformanceTest, AnEvictedObjectStaysReadableThroughItsReference) {
  // The reader got `held` (say, as the writer streaming it) and never read it via the store, so
  // no policy has a reason to keep it.
  ObjectRef reader = makeObject(200 << 10);
  store_->insert("held", "", reader);
  settleStore(*store_);
  for (int i = 0; i < 200; ++i) {
    store_->insert("filler" + std::to_string(i), "", makeObject(100 << 10));
    if (i % 20 == 0) settleStore(*store_);
  }
  settleStore(*store_);
  EXPECT_EQ(store_->find("held", no_headers_), nullptr);
  iovec iov[1];
  ASSERT_EQ(reader->body()->peek(0, UINT64_MAX, iov, 1), 1);
  EXPECT_EQ(iov[0].iov_len, size_t{200 << 10});
  EXPECT_EQ(static_cast<const char*>(iov[0].iov_base)[0], 'b');
}

TEST_P(StoreConformanceTest, AFillingObjectIsServedAndChargedAsItGrows) {
  ObjectRef object = makeFillingObject();
  store_->insert("live", "", object);
  const uint64_t before = store_->stats().bytes;
  ObjectRef reader = store_->find("live", no_headers_);
  ASSERT_EQ(reader, object);  // still filling: every store hands out the object itself
  object->body()->append(std::string(100 << 10, 'z'));
  store_->noteGrowth(object.get(), object->chargedBytes());
  EXPECT_GE(store_->stats().bytes, before + (100 << 10));
  EXPECT_EQ(reader->body()->available(), size_t{100 << 10});
  // Growing past the size limit drops it; the reader keeps what it holds.
  object->body()->append(std::string(kMaxObject, 'z'));
  store_->noteGrowth(object.get(), object->chargedBytes());
  EXPECT_EQ(store_->find("live", no_headers_), nullptr);
  EXPECT_EQ(store_->stats().bytes, 0u);
  object->body()->finish();
  EXPECT_EQ(reader->body()->state(), Body::State::kComplete);
}

TEST_P(StoreConformanceTest, ConcurrentUseKeepsTheBoundAndTheCounts) {
  std::atomic<bool> over_bound{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      http::Fields none;
      for (int i = 0; i < 1500; ++i) {
        const std::string key = "k" + std::to_string(rng() % 300);
        switch (rng() % 6) {
          case 0:
          case 1:
            store_->insert(key, "", makeObject(1 + rng() % (64 << 10)));
            break;
          case 2:
            store_->eraseAll(key);
            break;
          case 3:
            if (ObjectRef found = store_->find(key, none)) store_->eraseIf(key, "", found.get());
            break;
          default:
            store_->find(key, none);
        }
        if (store_->stats().bytes > kCapacity) over_bound = true;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  settleStore(*store_);
  EXPECT_FALSE(over_bound.load());
  const Store::Stats stats = store_->stats();
  EXPECT_GT(stats.hits + stats.misses, 0u);
  // Every stored object is findable and the object count matches what find() sees.
  size_t found = 0;
  http::Fields none;
  for (int k = 0; k < 300; ++k) found += store_->find("k" + std::to_string(k), none) != nullptr;
  if (GetParam().exact_object_count) {
    EXPECT_EQ(found, store_->stats().objects);
  } else {
    auto& tiered = dynamic_cast<TempTieredStore&>(*store_).tiered();
    uint64_t held = tiered.memory().stats().objects;
    for (const auto& disk : tiered.disks()) held += disk->stats().objects;
    EXPECT_LE(found, held);
    EXPECT_GE(found, store_->stats().objects);
  }
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreConformanceTest, ::testing::ValuesIn(kStores),
                         [](const auto& test_param) { return std::string(test_param.param.name); });

}  // namespace
}  // namespace ec::storage
