// MemoryStore specifics: sharded byte accounting, the size limit, and S3-FIFO seen through the
// store (the behaviour common to every Store is in store_conformance_test.cc).

#include "storage/memory_store.h"

#include <gtest/gtest.h>

#include <string>

#include "test_objects.h"

namespace ec::storage {
namespace {

using testing::makeObject;

MemoryStoreOptions options(
    uint64_t capacity, size_t shards, uint64_t max_object,
    MemoryStoreOptions::Policy policy = MemoryStoreOptions::Policy::kS3Fifo) {
  MemoryStoreOptions o;
  o.capacity_bytes = capacity;
  o.shards = shards;
  o.max_object_bytes = max_object;
  o.policy = policy;
  return o;
}

TEST(MemoryStoreTest, AnObjectMayNotExceedOneShardsShare) {
  MemoryStore store(options(16 << 20, 16, 64 << 20));
  EXPECT_EQ(store.capacityBytes(), uint64_t{16 << 20});
  EXPECT_EQ(store.effectiveMaxObjectBytes(), uint64_t{1 << 20});
  MemoryStore roomy(options(16 << 20, 1, 64 << 10));
  EXPECT_EQ(roomy.effectiveMaxObjectBytes(), uint64_t{64 << 10});
}

TEST(MemoryStoreTest, TheIndexIsSizedForTheCapacitySoFillingItNeverRehashes) {
  // 64 MiB in 4 shards: 16 MiB each, sized for 2,048 objects of 8 KiB.
  MemoryStore store(options(64 << 20, 4, 1 << 20));
  const size_t buckets = store.indexBucketsForTest();
  EXPECT_GE(buckets, expectedObjects(16 << 20));
  EXPECT_EQ(expectedObjects(16 << 20), size_t{2048});
  // Objects charged a little over the sizing average (head and key on top) fill the capacity,
  // evicting, without the table growing: a shard never holds more than it was sized for.
  for (int i = 0; i < 5 * 2048; ++i) {
    store.insert("k" + std::to_string(i), "",
                 makeObject(kIndexSizingObjectBytes - CachedObject::kIndexOverheadBytes));
  }
  EXPECT_GT(store.stats().objects, 4u * 1800u);  // full (S3-FIFO keeps some slack)
  EXPECT_GT(store.stats().evictions, 0u);
  EXPECT_EQ(store.indexBucketsForTest(), buckets);
}

TEST(MemoryStoreTest, ChargesHeadKeysAndOverheadNotJustTheBody) {
  MemoryStore store(options(1 << 20, 1, 1 << 20));
  const std::string primary(300, 'p');
  ObjectRef object = makeObject(10, {}, std::string(5000, 'h'));
  store.insert(primary, "", object);
  const uint64_t bytes = store.stats().bytes;
  EXPECT_GE(bytes, 10u + 5000u + 300u + CachedObject::kIndexOverheadBytes);
  EXPECT_EQ(bytes, object->chargedBytes() + primary.size());
}

TEST(MemoryStoreTest, GrowthIsChargedWhereTheObjectIsEvenWithAStaleShardHint) {
  // insert() leaves a hint of the object's shard so noteGrowth() locks one shard; the hint is
  // the last store's, so a second store with other shards must still find its entry.
  MemoryStore first(options(64 << 20, 4, 8 << 20));
  MemoryStore second(options(64 << 20, 16, 8 << 20));
  ObjectRef object = testing::makeFillingObject();
  first.insert("http://a/growing", "", object);
  second.insert("http://a/growing", "", object);
  const uint64_t before_first = first.stats().bytes;
  const uint64_t before_second = second.stats().bytes;
  object->body()->append(std::string(100000, 'x'));
  first.noteGrowth(object.get(), object->chargedBytes());
  second.noteGrowth(object.get(), object->chargedBytes());
  EXPECT_GE(first.stats().bytes, before_first + 100000);
  EXPECT_GE(second.stats().bytes, before_second + 100000);
  EXPECT_EQ(first.stats().bytes - before_first, second.stats().bytes - before_second);
  // Growth past the limit drops it from both.
  object->body()->append(std::string(9 << 20, 'y'));
  first.noteGrowth(object.get(), object->chargedBytes());
  second.noteGrowth(object.get(), object->chargedBytes());
  EXPECT_EQ(first.stats().objects, 0u);
  EXPECT_EQ(second.stats().objects, 0u);
}

TEST(MemoryStoreTest, EvictionReleasesTheObjectOnceNoReaderHoldsIt) {
  MemoryStore store(options(64 << 10, 1, 64 << 10));
  std::weak_ptr<Body> watched;
  {
    ObjectRef first = makeObject(30 << 10);
    watched = first->body();
    store.insert("first", "", first);
  }
  EXPECT_FALSE(watched.expired());
  store.insert("second", "", makeObject(30 << 10));
  store.insert("third", "", makeObject(30 << 10));
  EXPECT_EQ(store.stats().evictions, 1u);
  EXPECT_TRUE(watched.expired());
}

// One shard of 100 KiB holding 10 KiB objects: the S3-FIFO small queue is one object.
constexpr uint64_t kObject = 10 << 10;

std::string key(int i) { return "http://h/" + std::to_string(i); }

TEST(MemoryStoreTest, S3FifoEvictsOneHitWondersAndKeepsWhatWasRead) {
  MemoryStore store(options(100 << 10, 1, 100 << 10));
  http::Fields none;
  store.insert(key(0), "", makeObject(kObject - 400));
  ASSERT_NE(store.find(key(0), none), nullptr);  // read once: earns a place in main
  for (int i = 1; i < 60; ++i) store.insert(key(i), "", makeObject(kObject - 400));
  EXPECT_NE(store.find(key(0), none), nullptr);
  EXPECT_EQ(store.find(key(1), none), nullptr);   // one-hit wonders went first
  EXPECT_NE(store.find(key(59), none), nullptr);  // the newest are still on probation
  EXPECT_LE(store.stats().bytes, uint64_t{100 << 10});
}

TEST(MemoryStoreTest, S3FifoAdmitsARecentlyEvictedKeyStraightToMain) {
  MemoryStore store(options(100 << 10, 1, 100 << 10));
  http::Fields none;
  for (int i = 0; i < 12; ++i) store.insert(key(i), "", makeObject(kObject - 400));
  ASSERT_EQ(store.find(key(0), none), nullptr);         // evicted, remembered as a ghost
  store.insert(key(0), "", makeObject(kObject - 400));  // ghost hit: goes to main
  // A scan of never-read objects now passes through the small queue without touching it.
  for (int i = 100; i < 140; ++i) store.insert(key(i), "", makeObject(kObject - 400));
  EXPECT_NE(store.find(key(0), none), nullptr);
}

TEST(MemoryStoreTest, LruLosesTheReadObjectToTheSameScan) {
  MemoryStore store(options(100 << 10, 1, 100 << 10, MemoryStoreOptions::Policy::kLru));
  http::Fields none;
  store.insert(key(0), "", makeObject(kObject - 400));
  ASSERT_NE(store.find(key(0), none), nullptr);
  for (int i = 1; i < 60; ++i) store.insert(key(i), "", makeObject(kObject - 400));
  EXPECT_EQ(store.find(key(0), none), nullptr);
}

TEST(MemoryStoreTest, AnObjectWithAKnownLengthOverTheLimitIsRefusedBeforeItFills) {
  MemoryStore store(options(1 << 20, 1, 64 << 10));
  cache::ObjectMeta meta;
  meta.content_length = 100 << 10;
  auto object = std::make_shared<CachedObject>(std::move(meta), std::make_shared<Body>(0));
  store.insert("big", "", object);
  EXPECT_EQ(store.stats().objects, 0u);
}

}  // namespace
}  // namespace ec::storage
