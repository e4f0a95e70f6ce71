// disk_store_bench: fills a DiskStore with N small objects, closes it cleanly (which writes the
// index checkpoint), and times three starts (issue 3 targets: 1M objects rebuilt in under 2 s,
// at most 32 bytes of index per object). Plain C++.
//   1. from the checkpoint (nothing written after it);
//   2. without it (checkpoint moved aside): the whole log is scanned;
//   3. with --tail N: N more objects are written after the checkpoint and the older checkpoint
//      is put back (what a kill -9 leaves): checkpoint + scan of the log after it.
// --cold syncs each file and drops it from the page cache (posix_fadvise DONTNEED) before each
// start, so the start reads from the device.
//
//   disk_store_bench [--objects N] [--object-bytes N] [--path FILE] [--keep] [--reopen-only]
//                    [--cold] [--tail N]
//
// --reopen-only skips the fill and reopens a file kept by an earlier run with the same
// --objects/--object-bytes (evict it from the page cache first, e.g. with posix_fadvise
// DONTNEED, to time a cold rebuild).
// The file is sized for the objects (plus 15% slack); it is removed at the end unless --keep.
// Numbers depend on the page cache: the first reopen right after the fill reads from it.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "storage/disk_format.h"
#include "storage/disk_index.h"
#include "storage/disk_store.h"

namespace {

using ec::storage::Body;
using ec::storage::CachedObject;
using ec::storage::DiskStore;
using ec::storage::DiskStoreOptions;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Syncs a file and drops its pages from the page cache (a cold start reads the device).
void evict(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

void insertObjects(DiskStore& store, uint64_t from, uint64_t count, uint64_t object_bytes) {
  const std::string body_bytes(object_bytes, 'x');
  for (uint64_t i = from; i < from + count; ++i) {
    ec::cache::ObjectMeta meta;
    meta.head = "Content-Type: image/jpeg\r\nETag: \"" + std::to_string(i) + "\"\r\n";
    meta.content_length = static_cast<int64_t>(object_bytes);
    auto body = std::make_shared<Body>(object_bytes);
    body->append(body_bytes);
    body->finish();
    store.insert("http://upload.wiki.test/media/" + std::to_string(i) + ".jpg", "",
                 std::make_shared<CachedObject>(std::move(meta), body));
    if (i % 20000 == 19999) store.settleForTest();
  }
  store.settleForTest();
}

// Opens the store and prints what the start did.
std::unique_ptr<DiskStore> timedOpen(const char* what, const DiskStoreOptions& options, bool cold) {
  if (cold) {
    evict(options.path);
    evict(options.path + ".index");
  }
  auto start = std::chrono::steady_clock::now();
  auto store = DiskStore::open(options);
  const double open_seconds = secondsSince(start);
  const uint64_t indexed = store->stats().objects;
  const auto& m = store->metrics();
  std::printf("%s%s: %llu objects indexed in %.3f s (open total %.3f s; %s, %.1f MiB of log read)\n",
              cold ? "cold " : "", what, static_cast<unsigned long long>(indexed),
              static_cast<double>(m.rebuild_ms.load()) / 1000.0, open_seconds,
              m.rebuilt_from_checkpoint.load() ? "checkpoint" : "full scan",
              static_cast<double>(m.rebuild_scanned_bytes.load()) / (1 << 20));
  std::printf("  index: %zu bytes = %.1f bytes/object\n", store->indexMemoryBytes(),
              indexed ? static_cast<double>(store->indexMemoryBytes()) / static_cast<double>(indexed) : 0.0);
  return store;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t objects = 1000000;
  uint64_t object_bytes = 1000;
  std::string path = "/tmp/ec_disk_store_bench.bin";
  bool keep = false;
  bool reopen_only = false;
  bool cold = false;
  uint64_t tail = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--objects" && i + 1 < argc) objects = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--object-bytes" && i + 1 < argc) object_bytes = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--path" && i + 1 < argc) path = argv[++i];
    else if (arg == "--keep") keep = true;
    else if (arg == "--reopen-only") keep = reopen_only = true;
    else if (arg == "--cold") cold = true;
    else if (arg == "--tail" && i + 1 < argc) tail = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: disk_store_bench [--objects N] [--object-bytes N] [--path FILE] [--keep] [--reopen-only] [--cold] [--tail N]\n");
      return 2;
    }
  }
  const uint64_t per_object = ec::storage::disk::recordBytes(object_bytes) + 208;
  DiskStoreOptions options;
  options.path = path;
  options.size_bytes = (objects * per_object * 115 / 100 / (1 << 20) + 64) << 20;
  options.average_object_bytes = per_object;
  options.sync_interval_ms = 0;
  if (!reopen_only) std::remove(path.c_str());

  auto fill_start = std::chrono::steady_clock::now();
  if (!reopen_only) {
    auto store = DiskStore::open(options);
    if (!store->up()) {
      std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), store->failureReason().c_str());
      return 1;
    }
    insertObjects(*store, 0, objects, object_bytes);
    std::printf("filled %llu objects of %llu bytes into %llu MiB in %.2f s (%llu indexed)\n",
                static_cast<unsigned long long>(objects), static_cast<unsigned long long>(object_bytes),
                static_cast<unsigned long long>(options.size_bytes >> 20), secondsSince(fill_start),
                static_cast<unsigned long long>(store->stats().objects));
  }
  const std::string checkpoint = path + ".index";
  const std::string aside = path + ".index.aside";
  namespace fs = std::filesystem;
  auto store = timedOpen("start from the checkpoint", options, cold);
  store.reset();
  fs::copy_file(checkpoint, aside, fs::copy_options::overwrite_existing);
  fs::remove(checkpoint);
  store = timedOpen("start without a checkpoint", options, cold);
  store.reset();
  fs::copy_file(aside, checkpoint, fs::copy_options::overwrite_existing);
  if (tail > 0) {
    store = DiskStore::open(options);
    insertObjects(*store, objects, tail, object_bytes);
    store.reset();
    fs::copy_file(aside, checkpoint, fs::copy_options::overwrite_existing);  // as after kill -9
    char what[96];
    std::snprintf(what, sizeof what, "start from the checkpoint + %llu objects after it",
                  static_cast<unsigned long long>(tail));
    store = timedOpen(what, options, cold);
  }
  fs::remove(aside);
  store.reset();
  {
    // The index grows by 1.2x under the store's lock (lookups wait): time the largest grow.
    ec::storage::disk::DiskIndex index(objects);
    uint64_t k = 1;
    const auto key = [](uint64_t n) { return n * 0x9e3779b97f4a7c15ull | 1; };
    while (static_cast<double>(index.size() + 1) <= 0.9 * static_cast<double>(index.capacity())) {
      index.insert(ec::storage::disk::IndexEntry::make(key(k), k * 16, 64, 0, 1000, 0, 0));
      ++k;
    }
    auto grow_start = std::chrono::steady_clock::now();
    index.insert(ec::storage::disk::IndexEntry::make(key(k), k * 16, 64, 0, 1000, 0, 0));
    std::printf("index grow at %zu entries (to %zu slots): %.1f ms\n", index.size() - 1,
                index.capacity(), secondsSince(grow_start) * 1000);
  }
  store.reset();
  if (!keep) {
    std::remove(path.c_str());
    std::remove(checkpoint.c_str());
  }
  return 0;
}
