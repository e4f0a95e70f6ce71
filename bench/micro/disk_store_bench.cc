// disk_store_bench: fills a DiskStore with N small objects, closes it cleanly, reopens it and
// reports the index rebuild time and the index memory per object (issue 3 targets: 1M objects
// rebuilt in under 2 s, at most 32 bytes of index per object). Plain C++.
//
//   disk_store_bench [--objects N] [--object-bytes N] [--path FILE] [--keep] [--reopen-only]
//
// --reopen-only skips the fill and reopens a file kept by an earlier run with the same
// --objects/--object-bytes (evict it from the page cache first, e.g. with posix_fadvise
// DONTNEED, to time a cold rebuild).
// The file is sized for the objects (plus 15% slack); it is removed at the end unless --keep.
// Numbers depend on the page cache: the first reopen right after the fill reads from it.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "storage/disk_format.h"
#include "storage/disk_store.h"

namespace {

using ec::storage::Body;
using ec::storage::CachedObject;
using ec::storage::DiskStore;
using ec::storage::DiskStoreOptions;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t objects = 1000000;
  uint64_t object_bytes = 1000;
  std::string path = "/tmp/ec_disk_store_bench.bin";
  bool keep = false;
  bool reopen_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--objects" && i + 1 < argc) objects = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--object-bytes" && i + 1 < argc) object_bytes = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--path" && i + 1 < argc) path = argv[++i];
    else if (arg == "--keep") keep = true;
    else if (arg == "--reopen-only") keep = reopen_only = true;
    else {
      std::fprintf(stderr, "usage: disk_store_bench [--objects N] [--object-bytes N] [--path FILE] [--keep] [--reopen-only]\n");
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

  const std::string body_bytes(object_bytes, 'x');
  auto fill_start = std::chrono::steady_clock::now();
  if (!reopen_only) {
    auto store = DiskStore::open(options);
    if (!store->up()) {
      std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), store->failureReason().c_str());
      return 1;
    }
    for (uint64_t i = 0; i < objects; ++i) {
      ec::cache::ObjectMeta meta;
      meta.head = "Content-Type: image/jpeg\r\nETag: \"" + std::to_string(i) + "\"\r\n";
      meta.content_length = static_cast<int64_t>(object_bytes);
      auto body = std::make_shared<Body>(object_bytes);
      body->append(body_bytes);
      body->finish();
      store->insert("http://upload.wiki.test/media/" + std::to_string(i) + ".jpg", "",
                    std::make_shared<CachedObject>(std::move(meta), body));
      if (i % 20000 == 19999) store->settleForTest();
    }
    store->settleForTest();
    std::printf("filled %llu objects of %llu bytes into %llu MiB in %.2f s (%llu indexed)\n",
                static_cast<unsigned long long>(objects), static_cast<unsigned long long>(object_bytes),
                static_cast<unsigned long long>(options.size_bytes >> 20), secondsSince(fill_start),
                static_cast<unsigned long long>(store->stats().objects));
  }
  auto open_start = std::chrono::steady_clock::now();
  auto store = DiskStore::open(options);
  const double open_seconds = secondsSince(open_start);
  const uint64_t indexed = store->stats().objects;
  std::printf("reopen: %llu objects indexed, rebuild %.3f s (open total %.3f s)\n",
              static_cast<unsigned long long>(indexed),
              static_cast<double>(store->metrics().rebuild_ms.load()) / 1000.0, open_seconds);
  std::printf("index: %zu bytes = %.1f bytes/object\n", store->indexMemoryBytes(),
              indexed ? static_cast<double>(store->indexMemoryBytes()) / static_cast<double>(indexed) : 0.0);
  store.reset();
  if (!keep) std::remove(path.c_str());
  return 0;
}
