// DiskStore beyond the conformance suite: persistence across reopen, corruption detected on
// read, fragments of big objects, failed fetches never kept, the cyclic log wrapping, erases
// surviving a restart, a failed store answering nothing; and the record/index codecs.

#include <fcntl.h>
#include <sys/uio.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>

#include "storage/disk_checkpoint.h"
#include "storage/disk_format.h"
#include "storage/disk_index.h"
#include "storage/disk_store.h"
#include "test_objects.h"

namespace ec::storage {
namespace {

using testing::makeObject;

std::string readAll(const ObjectRef& object) {
  std::string out;
  iovec iov[64];
  uint64_t offset = 0;
  for (int spins = 0; spins < 100000; ++spins) {
    const int n = object->body()->peek(offset, UINT64_MAX, iov, 64);
    for (int i = 0; i < n; ++i) {
      out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
      offset += iov[i].iov_len;
    }
    if (n == 0 && object->body()->state() != Body::State::kFilling) break;
    if (n == 0) usleep(100);
  }
  return out;
}

ObjectRef makePatterned(size_t size, uint32_t seed) {
  cache::ObjectMeta meta;
  meta.head = "Content-Type: application/octet-stream\r\nETag: \"" + std::to_string(seed) + "\"\r\n";
  meta.etag = "\"" + std::to_string(seed) + "\"";
  meta.content_length = static_cast<int64_t>(size);
  meta.freshness_lifetime = 3600;
  std::string bytes(size, '\0');
  std::mt19937 rng(seed);
  for (char& c : bytes) c = static_cast<char>(rng());
  auto body = std::make_shared<Body>(size);
  body->append(bytes);
  body->finish();
  return std::make_shared<CachedObject>(std::move(meta), body);
}

class DiskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("ec_disk_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    removeFiles();
  }
  void TearDown() override {
    store_.reset();
    removeFiles();
  }
  void removeFiles() {
    for (const char* suffix : {"", ".index", ".index.tmp", ".saved", ".other", ".other.index"}) {
      std::remove((path_ + suffix).c_str());
    }
  }
  std::string checkpoint() const { return path_ + ".index"; }
  // Keeps the checkpoint as it is now, to put it back later: the state a kill -9 leaves (the
  // log went on after the checkpoint the file holds).
  void saveCheckpoint() {
    std::filesystem::copy_file(checkpoint(), path_ + ".saved",
                               std::filesystem::copy_options::overwrite_existing);
  }
  void restoreCheckpoint() {
    std::filesystem::copy_file(path_ + ".saved", checkpoint(),
                               std::filesystem::copy_options::overwrite_existing);
  }
  // Keys of `keys` the store finds, each checked byte for byte against makePatterned(size, i).
  std::vector<uint32_t> foundPatterned(uint32_t count, size_t size) {
    std::vector<uint32_t> found;
    for (uint32_t i = 0; i < count; ++i) {
      ObjectRef object = store_->find("w" + std::to_string(i), none_);
      if (!object) continue;
      EXPECT_EQ(readAll(object), readAll(makePatterned(size, i))) << "wrong bytes for w" << i;
      found.push_back(i);
    }
    return found;
  }
  void open(uint64_t size = 16 << 20, uint64_t segment = 1 << 20) {
    store_.reset();
    DiskStoreOptions options;
    options.path = path_;
    options.size_bytes = size;
    options.segment_bytes = segment;
    options.max_object_bytes = 8 << 20;
    options.average_object_bytes = 8 << 10;
    store_ = DiskStore::open(options);
  }
  std::string path_;
  std::unique_ptr<DiskStore> store_;
  http::Fields none_;
};

TEST_F(DiskStoreTest, ObjectsSurviveAReopen) {
  open();
  ASSERT_TRUE(store_->up());
  std::vector<ObjectRef> objects;
  for (uint32_t i = 0; i < 50; ++i) {
    objects.push_back(makePatterned(1000 + i * 3000, i));
    store_->insert("http://h/" + std::to_string(i), "", objects.back());
  }
  store_->settleForTest();
  open();  // clean close, then rebuild from the file
  ASSERT_TRUE(store_->up());
  EXPECT_EQ(store_->stats().objects, 50u);
  EXPECT_EQ(store_->metrics().rebuild_objects.load(), 50u);
  for (uint32_t i = 0; i < 50; ++i) {
    ObjectRef found = store_->find("http://h/" + std::to_string(i), none_);
    ASSERT_NE(found, nullptr) << i;
    EXPECT_EQ(found->meta().etag, objects[i]->meta().etag);
    EXPECT_EQ(found->meta().freshness_lifetime, 3600);
    EXPECT_EQ(readAll(found), readAll(objects[i])) << i;
  }
  EXPECT_EQ(store_->metrics().corrupt.load(), 0u);
}

TEST_F(DiskStoreTest, BigObjectsAreStoredInFragmentsAndStreamBack) {
  open(32 << 20, 2 << 20);
  ObjectRef big = makePatterned(5 << 20, 7);  // several 512 KiB fragments
  store_->insert("big", "", big);
  store_->settleForTest();
  open(32 << 20, 2 << 20);
  bool pending = false;
  std::mutex mu;
  std::condition_variable cv;
  ObjectRef result;
  bool done = false;
  ObjectRef immediate = store_->findAsync("big", none_, [&](ObjectRef object) {
    std::lock_guard lock(mu);
    result = std::move(object);
    done = true;
    cv.notify_all();
  }, &pending);
  EXPECT_EQ(immediate, nullptr);
  ASSERT_TRUE(pending);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(readAll(result), readAll(big));
  EXPECT_GE(store_->metrics().reads.load(), 11u);  // head + 10 fragments
}

// Looks `key` up with findAsync and waits for the answer.
ObjectRef findWaiting(DiskStore& store, std::string_view key, const http::Fields& request,
                      bool allow_partial) {
  std::mutex mu;
  std::condition_variable cv;
  ObjectRef result;
  bool done = false;
  bool pending = false;
  ObjectRef immediate = store.findAsync(
      key, request,
      [&](ObjectRef object) {
        std::lock_guard lock(mu);
        result = std::move(object);
        done = true;
        cv.notify_all();
      },
      &pending, allow_partial);
  if (!pending) return immediate;
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  return result;
}

// Reads [from, to) of a body as it fills (a partial body never completes past its window).
std::string readRange(const Body& body, uint64_t from, uint64_t to) {
  std::string out;
  iovec iov[16];
  for (int spins = 0; spins < 100000 && from + out.size() < to; ++spins) {
    const int n = body.peek(from + out.size(), to - from - out.size(), iov, 16);
    for (int i = 0; i < n; ++i) out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    if (n == 0 && body.state() == Body::State::kFailed) break;
    if (n == 0) usleep(100);
  }
  return out;
}

TEST_F(DiskStoreTest, ARangeReadsOnlyTheFragmentsItTouches) {
  open(48 << 20, 2 << 20);  // fragments of 512 KiB - 40 bytes; no zero copy (a small store)
  const uint64_t size = 6 << 20;  // the store's largest object is 8 MiB
  ObjectRef big = makePatterned(size, 11);
  const std::string whole = readAll(big);
  store_->insert("big", "", big);
  store_->settleForTest();
  open(48 << 20, 2 << 20);
  const uint64_t fragment = (512 << 10) - disk::kRecordHeaderBytes;

  // The last 1 MiB of a 6 MiB object: head + the 3 fragments holding it, not the first 5 MiB.
  http::Fields tail;
  tail.addOwned("range", "bytes=" + std::to_string(size - (1 << 20)) + "-");
  uint64_t before = store_->metrics().read_bytes.load();
  ObjectRef object = findWaiting(*store_, "big", tail, true);
  ASSERT_NE(object, nullptr);
  EXPECT_TRUE(object->body()->partial());
  EXPECT_LE(object->body()->base(), size - (1 << 20));
  EXPECT_GT(object->body()->base(), size - (1 << 20) - fragment);
  EXPECT_EQ(readRange(*object->body(), size - (1 << 20), size), whole.substr(size - (1 << 20)));
  EXPECT_LT(store_->metrics().read_bytes.load() - before, (1 << 20) + 2 * fragment + 8192);

  // A range in the middle: only its fragments, and the Body ends with the last of them.
  http::Fields middle;
  middle.addOwned("range", "bytes=3000000-3100000");
  before = store_->metrics().read_bytes.load();
  object = findWaiting(*store_, "big", middle, true);
  ASSERT_NE(object, nullptr);
  EXPECT_TRUE(object->body()->partial());
  EXPECT_LE(object->body()->end(), 3100001 + fragment);
  EXPECT_EQ(readRange(*object->body(), 3000000, 3100001), whole.substr(3000000, 100001));
  EXPECT_LT(store_->metrics().read_bytes.load() - before, 2 * fragment + 8192);
  EXPECT_EQ(object->body()->state(), Body::State::kFilling);  // never complete: not whole

  // Without allow_partial (or with If-Range) the whole object is read.
  before = store_->metrics().read_bytes.load();
  object = findWaiting(*store_, "big", middle, false);
  ASSERT_NE(object, nullptr);
  EXPECT_FALSE(object->body()->partial());
  EXPECT_EQ(readAll(object), whole);
  EXPECT_GE(store_->metrics().read_bytes.load() - before, size);
  http::Fields if_range;
  if_range.addOwned("range", "bytes=3000000-3100000");
  if_range.addOwned("if-range", "\"11\"");
  object = findWaiting(*store_, "big", if_range, true);
  ASSERT_NE(object, nullptr);
  EXPECT_FALSE(object->body()->partial());
}

TEST_F(DiskStoreTest, ZeroCopyBytesInFlightKeepTheirContentWhenTheLogWraps) {
  open(128 << 20, 2 << 20);  // 2 MiB-aligned log and segments: whole page-cache folios
  ASSERT_TRUE(store_->zeroCopy());  // ext4/xfs/tmpfs punch holes
  ObjectRef original = makePatterned(200 << 10, 21);
  const std::string bytes = readAll(original);
  store_->insert("zc", "", original);
  store_->settleForTest();
  ObjectRef hit = findWaiting(*store_, "zc", none_, true);
  ASSERT_NE(hit, nullptr);
  const std::shared_ptr<Body> body = hit->body();
  ASSERT_TRUE(body->fileBacked());
  EXPECT_EQ(store_->metrics().mapped_reads.load(), 1u);
  EXPECT_EQ(readAll(hit), bytes);
  // A blocking find() (no views) and a lookup without views read a private copy.
  EXPECT_FALSE(store_->find("zc", none_)->body()->fileBacked());
  EXPECT_FALSE(findWaiting(*store_, "zc", none_, false)->body()->fileBacked());

  // Hand the first 32 KiB to the kernel by reference, as the send path does (vmsplice).
  constexpr size_t kInFlight = 32 << 10;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  iovec iov[4];
  const int n = body->peekMapped(0, kInFlight, iov, 4);
  ASSERT_EQ(n, 1);
  ASSERT_EQ(::vmsplice(pipe_fds[1], iov, 1, 0), static_cast<ssize_t>(kInFlight));
  EXPECT_TRUE(body->valid());

  // Write more than the whole log: the writer reclaims the segment, punches and rewrites it.
  for (int i = 0; i < 34; ++i) {  // 136 MiB through a 126 MiB log
    auto filler = std::make_shared<Body>(4 << 20);
    filler->append(std::string(4 << 20, static_cast<char>('a' + i % 26)));
    filler->finish();
    cache::ObjectMeta meta;
    meta.content_length = 4 << 20;
    meta.freshness_lifetime = 3600;
    store_->insert("filler" + std::to_string(i), "",
                   std::make_shared<CachedObject>(std::move(meta), filler));
    store_->settleForTest();
  }
  EXPECT_GT(store_->metrics().punched_segments.load(), 0u);
  EXPECT_FALSE(body->valid());  // a reader checking after its send drops the connection
  EXPECT_EQ(body->state(), Body::State::kFailed);
  EXPECT_EQ(body->peek(0, 100, iov, 4), 0);
  // What was in flight still holds the bytes that were checked: they left the file.
  std::string in_flight(kInFlight, '\0');
  size_t got = 0;
  while (got < in_flight.size()) {
    const ssize_t r = ::read(pipe_fds[0], in_flight.data() + got, in_flight.size() - got);
    ASSERT_GT(r, 0);
    got += static_cast<size_t>(r);
  }
  EXPECT_EQ(in_flight, bytes.substr(0, kInFlight));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(findWaiting(*store_, "zc", none_, true), nullptr);  // evicted
}

TEST_F(DiskStoreTest, CorruptBytesGiveAMissAndACounterNeverGarbage) {
  open();
  for (uint32_t i = 0; i < 20; ++i) store_->insert("k" + std::to_string(i), "", makePatterned(20000, i));
  store_->settleForTest();
  store_.reset();
  // Flip bytes all over the log area (not the file header).
  {
    const int fd = ::open(path_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    std::mt19937 rng(3);
    for (int i = 0; i < 200; ++i) {
      const off_t at = 4096 + static_cast<off_t>(rng() % (20 * 20100));
      char c = 0;
      ASSERT_EQ(::pread(fd, &c, 1, at), 1);
      c = static_cast<char>(c ^ 0x5a);
      ASSERT_EQ(::pwrite(fd, &c, 1, at), 1);
    }
    ::close(fd);
  }
  open();
  ASSERT_TRUE(store_->up());
  size_t served = 0;
  for (uint32_t i = 0; i < 20; ++i) {
    ObjectRef found = store_->find("k" + std::to_string(i), none_);
    if (!found) continue;
    const std::string body = readAll(found);
    if (found->body()->state() == Body::State::kComplete) {
      EXPECT_EQ(body, readAll(makePatterned(20000, i))) << "garbage served for k" << i;
      ++served;
    }
  }
  EXPECT_LT(served, 20u);
  EXPECT_GT(store_->metrics().corrupt.load(), 0u);
}

TEST_F(DiskStoreTest, AFailedFetchIsNeverKept) {
  open();
  cache::ObjectMeta meta;
  meta.head = "Content-Type: text/plain\r\n";
  meta.content_length = 100000;
  auto body = std::make_shared<Body>(100000);
  auto object = std::make_shared<CachedObject>(std::move(meta), body);
  store_->insert("partial", "", object);
  body->append(std::string(60000, 'x'));
  store_->settleForTest();
  body->fail();
  store_->settleForTest();
  EXPECT_EQ(store_->find("partial", none_), nullptr);
  open();
  EXPECT_EQ(store_->find("partial", none_), nullptr);
  EXPECT_EQ(store_->stats().objects, 0u);
}

TEST_F(DiskStoreTest, TheLogWrapsAndReclaimsTheOldestSegments) {
  open(8 << 20, 512 << 10);
  for (uint32_t i = 0; i < 400; ++i) {
    store_->insert("w" + std::to_string(i), "", makePatterned(50000, i));
    if (i % 10 == 0) store_->settleForTest();
  }
  store_->settleForTest();
  EXPECT_GT(store_->metrics().reclaimed_segments.load(), 0u);
  EXPECT_GT(store_->stats().evictions, 0u);
  EXPECT_LE(store_->stats().bytes, store_->capacityBytes());
  EXPECT_EQ(store_->find("w0", none_), nullptr);  // oldest: reclaimed
  ObjectRef last = store_->find("w399", none_);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(readAll(last), readAll(makePatterned(50000, 399)));
  const uint64_t objects = store_->stats().objects;
  open(8 << 20, 512 << 10);
  // The same window after a restart, plus objects only reclaimed ahead (still intact on disk).
  EXPECT_GE(store_->stats().objects, objects);
  ObjectRef again = store_->find("w399", none_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(readAll(again), readAll(makePatterned(50000, 399)));
  EXPECT_EQ(store_->find("w0", none_), nullptr);
  EXPECT_EQ(store_->metrics().corrupt.load(), 0u);
}

TEST_F(DiskStoreTest, ErasesSurviveARestart) {
  open();
  store_->insert("gone", "", makePatterned(3000, 1));
  store_->insert("kept", "", makePatterned(3000, 2));
  store_->settleForTest();
  EXPECT_EQ(store_->eraseAll("gone"), 1u);
  store_->settleForTest();
  open();
  EXPECT_EQ(store_->find("gone", none_), nullptr);
  EXPECT_NE(store_->find("kept", none_), nullptr);
}

TEST_F(DiskStoreTest, ReplacingAnObjectKeepsTheNewestAcrossARestart) {
  open();
  store_->insert("k", "", makePatterned(3000, 1));
  store_->settleForTest();
  store_->insert("k", "", makePatterned(5000, 2));
  store_->settleForTest();
  open();
  EXPECT_EQ(store_->stats().objects, 1u);
  ObjectRef found = store_->find("k", none_);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->meta().etag, "\"2\"");
}

TEST_F(DiskStoreTest, ManyDiskHitsDoNotGrowTheHandleMapWithoutBound) {
  open();
  store_->insert("hot", "", makePatterned(3000, 1));
  store_->settleForTest();
  for (int i = 0; i < 5000; ++i) ASSERT_NE(store_->find("hot", none_), nullptr);
  EXPECT_LT(store_->handleCountForTest(), 200u);
}

TEST_F(DiskStoreTest, AFailedStoreAnswersNothingAndTakesNothing) {
  open();
  store_->insert("a", "", makePatterned(3000, 1));
  store_->settleForTest();
  store_->failForTest("injected EIO");
  EXPECT_FALSE(store_->up());
  EXPECT_EQ(store_->failureReason(), "injected EIO");
  EXPECT_EQ(store_->find("a", none_), nullptr);
  store_->insert("b", "", makePatterned(3000, 2));
  EXPECT_EQ(store_->find("b", none_), nullptr);
  EXPECT_EQ(store_->metrics().errors.load(), 1u);
}

TEST_F(DiskStoreTest, AnUnusablePathGivesAFailedStoreNotACrash) {
  DiskStoreOptions options;
  options.path = "/nonexistent-dir/ec-store";
  options.size_bytes = 16 << 20;
  auto store = DiskStore::open(options);
  EXPECT_FALSE(store->up());
  EXPECT_NE(store->failureReason().find("nonexistent"), std::string::npos);
  EXPECT_EQ(store->find("x", none_), nullptr);
}

TEST_F(DiskStoreTest, IndexCostsAtMost32BytesPerObjectWhenFull) {
  // 64 MiB store sized for 8 KiB objects, filled with ~8 KiB objects until the log wraps.
  DiskStoreOptions options;
  options.path = path_;
  options.size_bytes = 64 << 20;
  options.average_object_bytes = 8 << 10;
  store_ = DiskStore::open(options);
  for (uint32_t i = 0; i < 9000; ++i) {
    store_->insert("o" + std::to_string(i), "", makeObject(7800));
    if (i % 500 == 0) store_->settleForTest();
  }
  store_->settleForTest();
  EXPECT_GT(store_->metrics().reclaimed_segments.load(), 0u);
  const double per_object =
      static_cast<double>(store_->indexMemoryBytes()) / static_cast<double>(store_->stats().objects);
  std::printf("index: %zu bytes for %llu objects = %.1f bytes/object\n", store_->indexMemoryBytes(),
              static_cast<unsigned long long>(store_->stats().objects), per_object);
  EXPECT_LE(per_object, 32.0);
}

TEST_F(DiskStoreTest, ACleanStopWritesACheckpointAndTheStartLoadsIt) {
  open();
  for (uint32_t i = 0; i < 60; ++i) store_->insert("w" + std::to_string(i), "", makePatterned(7000, i));
  store_->settleForTest();
  open();  // clean stop: checkpoint; start: load it
  ASSERT_TRUE(store_->up());
  EXPECT_TRUE(std::filesystem::exists(checkpoint()));
  EXPECT_TRUE(store_->metrics().rebuilt_from_checkpoint.load());
  EXPECT_EQ(store_->metrics().checkpoint_fallbacks.load(), 0u);
  // Nothing was written after the checkpoint: the scan reads one chunk, not the 16 MiB log.
  EXPECT_LE(store_->metrics().rebuild_scanned_bytes.load(), uint64_t{1} << 20);
  EXPECT_EQ(store_->stats().objects, 60u);
  EXPECT_EQ(foundPatterned(60, 7000).size(), 60u);
  EXPECT_EQ(store_->metrics().corrupt.load(), 0u);
}

TEST_F(DiskStoreTest, RecordsWrittenAfterTheCheckpointAreFoundByTheScan) {
  open();
  for (uint32_t i = 0; i < 30; ++i) store_->insert("w" + std::to_string(i), "", makePatterned(9000, i));
  store_->settleForTest();
  open();
  saveCheckpoint();  // covers w0..w29
  for (uint32_t i = 30; i < 60; ++i) store_->insert("w" + std::to_string(i), "", makePatterned(9000, i));
  store_->insert("w3", "", makePatterned(9000, 3));  // rewritten after the checkpoint
  store_->settleForTest();
  EXPECT_EQ(store_->eraseAll("w5"), 1u);  // tombstone after the checkpoint
  store_->settleForTest();
  EXPECT_EQ(store_->metrics().checkpoint_writes.load(), 0u);  // the interval has not passed
  store_.reset();
  restoreCheckpoint();  // as if killed: the file holds the older checkpoint
  open();
  ASSERT_TRUE(store_->up());
  EXPECT_TRUE(store_->metrics().rebuilt_from_checkpoint.load());
  EXPECT_GT(store_->metrics().rebuild_scanned_bytes.load(), 0u);
  const std::vector<uint32_t> found = foundPatterned(60, 9000);
  EXPECT_EQ(found.size(), 59u);
  EXPECT_EQ(std::count(found.begin(), found.end(), 5u), 0);
  EXPECT_EQ(store_->stats().objects, 59u);  // w3 once
  EXPECT_EQ(store_->metrics().corrupt.load(), 0u);
}

TEST_F(DiskStoreTest, ABadCheckpointFallsBackToTheFullScanAndIsCounted) {
  open();
  for (uint32_t i = 0; i < 40; ++i) store_->insert("w" + std::to_string(i), "", makePatterned(5000, i));
  store_->settleForTest();
  store_.reset();
  ASSERT_TRUE(std::filesystem::exists(checkpoint()));
  const uint64_t full = std::filesystem::file_size(checkpoint());
  struct Damage {
    const char* what;
    std::function<void(const std::string&)> apply;
  };
  const std::vector<Damage> damages = {
      {"flipped entry byte",
       [&](const std::string& p) {
         const int fd = ::open(p.c_str(), O_RDWR);
         char c = 0;
         ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(full - 7)), 1);
         c = static_cast<char>(c ^ 1);
         ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(full - 7)), 1);
         ::close(fd);
       }},
      {"truncated", [&](const std::string& p) { std::filesystem::resize_file(p, full - 24); }},
      {"header only", [&](const std::string& p) { std::filesystem::resize_file(p, 50); }},
      {"empty", [&](const std::string& p) { std::filesystem::resize_file(p, 0); }},
  };
  saveCheckpoint();
  for (const Damage& damage : damages) {
    restoreCheckpoint();
    damage.apply(checkpoint());
    open();
    ASSERT_TRUE(store_->up()) << damage.what;
    EXPECT_FALSE(store_->metrics().rebuilt_from_checkpoint.load()) << damage.what;
    EXPECT_EQ(store_->metrics().checkpoint_fallbacks.load(), 1u) << damage.what;
    EXPECT_FALSE(store_->checkpointFallbackReason().empty()) << damage.what;
    EXPECT_EQ(foundPatterned(40, 5000).size(), 40u) << damage.what;
    store_.reset();
  }
  // The checkpoint of another store of the same size (copied over ours): not used.
  {
    DiskStoreOptions options;
    options.path = path_ + ".other";
    options.size_bytes = 16 << 20;
    options.segment_bytes = 1 << 20;
    auto other = DiskStore::open(options);
    other->insert("x", "", makePatterned(3000, 9));
    other->settleForTest();
  }
  std::filesystem::copy_file(path_ + ".other.index", checkpoint(),
                             std::filesystem::copy_options::overwrite_existing);
  open();
  EXPECT_EQ(store_->metrics().checkpoint_fallbacks.load(), 1u);
  EXPECT_EQ(store_->checkpointFallbackReason(), "other store");
  EXPECT_EQ(foundPatterned(40, 5000).size(), 40u);
  EXPECT_EQ(store_->find("x", none_), nullptr);
}

TEST_F(DiskStoreTest, AFreshlyFormattedStoreIsNotScanned) {
  open(64 << 20, 4 << 20);
  EXPECT_EQ(store_->metrics().rebuild_scanned_bytes.load(), 0u);
  store_->insert("w0", "", makePatterned(3000, 0));
  store_->settleForTest();
  EXPECT_NE(store_->find("w0", none_), nullptr);
}

// The log goes on after the checkpoint and reclaims segments the checkpoint still lists: those
// objects must be gone after the restart (never served), exactly as a full scan would find.
TEST_F(DiskStoreTest, SegmentsReclaimedAfterTheCheckpointAreNeverServed) {
  const uint64_t size = 8 << 20;
  const uint64_t segment = 512 << 10;
  constexpr size_t kSize = 50000;
  open(size, segment);
  uint32_t next = 0;
  for (; next < 250; ++next) {  // ~12.5 MiB: the log has wrapped
    store_->insert("w" + std::to_string(next), "", makePatterned(kSize, next));
    if (next % 10 == 0) store_->settleForTest();
  }
  store_->settleForTest();
  open(size, segment);
  saveCheckpoint();
  const std::vector<uint32_t> at_checkpoint = foundPatterned(400, kSize);
  // A bit under half a lap after it (so the writer itself does not checkpoint again).
  for (; next < 310; ++next) {
    store_->insert("w" + std::to_string(next), "", makePatterned(kSize, next));
    if (next % 10 == 0) store_->settleForTest();
  }
  store_->settleForTest();
  store_.reset();
  restoreCheckpoint();
  open(size, segment);
  ASSERT_TRUE(store_->up());
  ASSERT_TRUE(store_->metrics().rebuilt_from_checkpoint.load());
  const std::vector<uint32_t> from_checkpoint = foundPatterned(400, kSize);
  EXPECT_EQ(store_->metrics().corrupt.load(), 0u);  // dropped by the floor, not read
  // Some objects the checkpoint listed were reclaimed after it: gone.
  size_t reclaimed = 0;
  for (uint32_t i : at_checkpoint) {
    reclaimed += std::count(from_checkpoint.begin(), from_checkpoint.end(), i) == 0;
  }
  EXPECT_GT(reclaimed, 0u);
  EXPECT_EQ(from_checkpoint.back(), 309u);
  // The same as the whole log says (a full scan may also keep objects the writer had reclaimed
  // ahead of itself but not yet overwritten).
  store_.reset();
  std::remove(checkpoint().c_str());
  open(size, segment);
  ASSERT_FALSE(store_->metrics().rebuilt_from_checkpoint.load());
  const std::vector<uint32_t> from_scan = foundPatterned(400, kSize);
  for (uint32_t i : from_checkpoint) {
    EXPECT_EQ(std::count(from_scan.begin(), from_scan.end(), i), 1) << "w" << i;
  }
  EXPECT_LE(from_scan.size(), from_checkpoint.size() + 20);
}

// More than a lap after the checkpoint its sentinel record is overwritten: stale, full scan.
TEST_F(DiskStoreTest, ACheckpointTheLogHasLappedIsStale) {
  const uint64_t size = 8 << 20;
  const uint64_t segment = 512 << 10;
  constexpr size_t kSize = 50000;
  open(size, segment);
  uint32_t next = 0;
  for (; next < 60; ++next) store_->insert("w" + std::to_string(next), "", makePatterned(kSize, next));
  store_->settleForTest();
  open(size, segment);
  saveCheckpoint();
  for (; next < 300; ++next) {  // ~12 MiB: more than the 7.5 MiB log
    store_->insert("w" + std::to_string(next), "", makePatterned(kSize, next));
    if (next % 10 == 0) store_->settleForTest();
  }
  store_->settleForTest();
  store_.reset();
  restoreCheckpoint();
  open(size, segment);
  ASSERT_TRUE(store_->up());
  EXPECT_FALSE(store_->metrics().rebuilt_from_checkpoint.load());
  EXPECT_EQ(store_->metrics().checkpoint_fallbacks.load(), 1u);
  EXPECT_NE(store_->checkpointFallbackReason().find("stale"), std::string::npos);
  const std::vector<uint32_t> found = foundPatterned(300, kSize);
  EXPECT_EQ(found.back(), 299u);
  EXPECT_EQ(std::count(found.begin(), found.end(), 0u), 0);
  EXPECT_EQ(store_->metrics().corrupt.load(), 0u);
}

TEST_F(DiskStoreTest, TheWriterCheckpointsEveryHalfLapWithoutAStop) {
  open(8 << 20, 512 << 10);
  for (uint32_t i = 0; i < 200; ++i) {
    store_->insert("w" + std::to_string(i), "", makePatterned(50000, i));
    if (i % 10 == 0) store_->settleForTest();
  }
  store_->settleForTest();
  // 10 MiB through a 7.5 MiB log: at least two half laps (plus the first one after the start).
  EXPECT_GE(store_->metrics().checkpoint_writes.load(), 2u);
  EXPECT_EQ(store_->metrics().checkpoint_write_errors.load(), 0u);
}

TEST_F(DiskStoreTest, AnUnwritableCheckpointIsCountedAndTheStoreServesOn) {
  DiskStoreOptions options;
  options.path = path_;
  options.size_bytes = 16 << 20;
  options.checkpoint_path = "/nonexistent-dir/ec-store.index";
  store_ = DiskStore::open(options);
  store_->insert("w0", "", makePatterned(3000, 0));
  store_->settleForTest();
  store_.reset();
  store_ = DiskStore::open(options);
  ASSERT_TRUE(store_->up());
  EXPECT_FALSE(store_->metrics().rebuilt_from_checkpoint.load());
  EXPECT_NE(store_->find("w0", none_), nullptr);
}

TEST(DiskCheckpointTest, RoundTripsAndRejectsEveryDamage) {
  std::vector<disk::IndexEntry> entries;
  for (uint64_t k = 1; k <= 100; ++k) {
    entries.push_back(disk::IndexEntry::make(k * 0x9e3779b97f4a7c15ull | 1, k * 4096, 128, 1024,
                                             3000, 1, 2));
  }
  disk::CheckpointHeader header;
  header.geometry = {7, 64 << 20, 4 << 20, 2 << 20, 60 << 20};
  header.covered = 101 * 4096;
  header.sentinel = 100 * 4096;
  header.sentinel_crc = 0x1234;
  const std::string image = disk::encodeCheckpoint(header, entries.data(), entries.size());
  ASSERT_EQ(image.size(), disk::kCheckpointHeaderBytes + 100 * 24);
  auto decoded = disk::decodeCheckpoint(image, header.geometry);
  ASSERT_TRUE(decoded.ok()) << decoded.error().context;
  EXPECT_EQ(decoded.value().count, 100u);
  EXPECT_EQ(decoded.value().covered, header.covered);
  EXPECT_EQ(decoded.value().sentinel, header.sentinel);
  EXPECT_EQ(decoded.value().sentinel_crc, 0x1234u);
  for (size_t i = 0; i < 100; ++i) {
    const disk::IndexEntry e = disk::checkpointEntry(image, i);
    EXPECT_EQ(e.key, entries[i].key);
    EXPECT_EQ(e.head(header.covered), (i + 1) * 4096);
  }
  // Every flipped byte, every truncation: an error, never a crash.
  for (size_t at = 0; at < image.size(); ++at) {
    std::string bad = image;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    EXPECT_FALSE(disk::decodeCheckpoint(bad, header.geometry).ok()) << at;
  }
  for (size_t n = 0; n < image.size(); n += 7) {
    EXPECT_FALSE(disk::decodeCheckpoint(image.substr(0, n), header.geometry).ok()) << n;
  }
  auto other = header.geometry;
  other.store_id = 8;
  EXPECT_EQ(disk::decodeCheckpoint(image, other).error().context, "other store");
  other = header.geometry;
  other.data_bytes -= 4 << 20;
  EXPECT_EQ(disk::decodeCheckpoint(image, other).error().context, "geometry");
  // An entry at or past `covered` cannot be right.
  entries.push_back(disk::IndexEntry::make(5, header.covered, 128, 0, 10, 0, 0));
  const std::string past = disk::encodeCheckpoint(header, entries.data(), entries.size());
  EXPECT_EQ(disk::decodeCheckpoint(past, header.geometry).error().context, "entry");
}

TEST(DiskIndexTest, AGrownIndexStaysAtOrUnder32BytesPerObject) {
  // Sized for 1,000 objects, holding up to 200,000: after every grow the load is >= 0.75.
  disk::DiskIndex index(1000);
  for (uint64_t k = 1; k <= 200000; ++k) {
    index.insert(disk::IndexEntry::make(k * 0x9e3779b97f4a7c15ull | 1, k * 16, 64, 0, 100, 0, 0));
    if (index.size() > 2000) {
      ASSERT_LE(static_cast<double>(index.memoryBytes()) / static_cast<double>(index.size()), 32.0)
          << index.size();
    }
  }
  index.reserve(300000);
  EXPECT_LE(static_cast<double>(index.memoryBytes()) / 300000.0, 30.1);
  std::vector<disk::IndexEntry> copy;
  for (size_t slot = 0; slot < index.capacity();) slot = index.copySlots(slot, 1000, copy);
  EXPECT_EQ(copy.size(), 200000u);
}

TEST(DiskFormatTest, HeadRoundTripsAndRejectsDamage) {
  disk::HeadPayload head;
  head.primary = "http://h/x";
  head.secondary = "accept-encoding=gzip\n";
  head.meta.status = 200;
  head.meta.head = "Content-Type: text/plain\r\n";
  head.meta.vary_names = {"accept-encoding"};
  head.meta.etag = "\"e\"";
  head.meta.content_length = 30;
  head.body_bytes = 30;
  head.fragments = {{100, 10}, {200, 20}};
  const std::string payload = disk::encodeHead(head);
  auto decoded = disk::decodeHead(payload);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value().primary, head.primary);
  EXPECT_EQ(decoded.value().meta.vary_names, head.meta.vary_names);
  ASSERT_EQ(decoded.value().fragments.size(), 2u);
  EXPECT_EQ(decoded.value().fragments[1].logical, 200u);
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_FALSE(disk::decodeHead(payload.substr(0, cut)).ok()) << cut;
  }
}

TEST(DiskFormatTest, RecordChecksumCatchesEveryFlippedByte) {
  disk::RecordHeader header;
  header.type = disk::RecordType::kFragment;
  header.store_id = 9;
  header.logical = 4096;
  header.key = 77;
  const std::string payload = "hello fragment";
  std::string record(disk::recordBytes(payload.size()), '\0');
  disk::encodeRecord(header, payload, record.data());
  auto decoded = disk::decodeRecordHeader(record);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(disk::verifyRecord(*decoded, record));
  for (size_t i = 0; i < disk::kRecordHeaderBytes + payload.size(); ++i) {
    std::string damaged = record;
    damaged[i] = static_cast<char>(damaged[i] ^ 1);
    auto h = disk::decodeRecordHeader(damaged);
    EXPECT_TRUE(!h || !disk::verifyRecord(*h, damaged)) << "byte " << i;
  }
}

// Bit-at-a-time CRC-32C, the definition the fast paths must match.
uint32_t referenceCrc32c(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
  }
  return ~crc;
}

TEST(DiskFormatTest, Crc32cMatchesTheBitwiseDefinitionAtEveryInterleavingBoundary) {
  EXPECT_EQ(disk::crc32c(0, "123456789", 9), 0xe3069283u);
  std::mt19937 rng(5);
  std::string bytes(300000, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  // Lengths around the three-lane block sizes (3 x 512, 3 x 4 KiB, 3 x 32 KiB) and odd tails.
  for (size_t length : {size_t{0}, size_t{1}, size_t{7}, size_t{1535}, size_t{1536}, size_t{1537},
                        size_t{12287}, size_t{12288}, size_t{12300}, size_t{98303}, size_t{98304},
                        size_t{98305}, size_t{262184}, size_t{300000}}) {
    const std::string slice = bytes.substr(0, length);
    EXPECT_EQ(disk::crc32c(0, slice.data(), slice.size()), referenceCrc32c(slice)) << length;
    // Continuing a CRC over a split equals the CRC of the whole.
    const size_t cut = length / 3;
    const uint32_t first = disk::crc32c(0, slice.data(), cut);
    EXPECT_EQ(disk::crc32c(first, slice.data() + cut, length - cut), referenceCrc32c(slice));
  }
}

TEST(DiskFormatTest, ARecordReadInPiecesVerifiesLikeAWholeOne) {
  disk::RecordHeader header;
  header.type = disk::RecordType::kFragment;
  header.store_id = 3;
  header.logical = 8192;
  header.key = 5;
  std::string payload(70000, 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31);
  std::string record(disk::recordBytes(payload.size()), '\0');
  disk::encodeRecord(header, payload, record.data());
  auto decoded = disk::decodeRecordHeader(record);
  ASSERT_TRUE(decoded);
  std::string copy = payload;
  iovec spans[3] = {{copy.data(), 100}, {copy.data() + 100, 50000}, {copy.data() + 50100, 19900}};
  EXPECT_TRUE(disk::verifyRecordParts(*decoded, record.data(), spans, 3));
  EXPECT_FALSE(disk::verifyRecordParts(*decoded, record.data(), spans, 2));  // short
  copy[60000] ^= 1;
  EXPECT_FALSE(disk::verifyRecordParts(*decoded, record.data(), spans, 3));
}

TEST(DiskIndexTest, InsertFindRemoveAndGrow) {
  disk::DiskIndex index(10);
  for (uint64_t k = 1; k <= 1000; ++k) {
    index.insert(disk::IndexEntry::make(k * 0x9e3779b97f4a7c15ull | 1, k * 16, 64, 0, 100, 0, 0));
  }
  EXPECT_EQ(index.size(), 1000u);
  for (uint64_t k = 1; k <= 1000; ++k) {
    int seen = 0;
    index.forEachWithKey(k * 0x9e3779b97f4a7c15ull | 1, [&](const disk::IndexEntry& e) {
      EXPECT_EQ(e.head(1 << 30), k * 16);
      ++seen;
    });
    EXPECT_EQ(seen, 1) << k;
  }
  const size_t removed = index.removeAllIf([](const disk::IndexEntry& e) { return e.head(1 << 30) % 32 == 0; },
                                           [](const disk::IndexEntry&) {});
  EXPECT_EQ(removed, 500u);
  for (uint64_t k = 1; k <= 1000; ++k) {
    int seen = 0;
    index.forEachWithKey(k * 0x9e3779b97f4a7c15ull | 1, [&](const disk::IndexEntry&) { ++seen; });
    EXPECT_EQ(seen, k % 2 == 1 ? 1 : 0) << k;
  }
}

TEST(DiskIndexTest, HeadPositionsSurviveTheModuloPacking) {
  const uint64_t head = (1ull << 53) + 4096 * 16;
  const auto e = disk::IndexEntry::make(5, head, 128, 1 << 20, 5000, 3, 4);
  EXPECT_EQ(e.head(head + (1 << 30)), head);
  EXPECT_EQ(e.first(head + 10), head - (1 << 20));
  EXPECT_EQ(e.secondaryTag(), 3);
  EXPECT_EQ(e.varyTag(), 4);
  EXPECT_EQ(e.headBytes(), 128u);
  EXPECT_GE(e.bodyBytesCeil(), 5000u);
}

}  // namespace
}  // namespace ec::storage
