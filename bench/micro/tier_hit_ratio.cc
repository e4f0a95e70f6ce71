// tier_hit_ratio: hit ratio of the memory tier alone vs memory + disk (TieredStore over a real
// store file) on a Zipf trace whose working set is 10x the memory tier (issue 3, item 6; ATS is
// not in this run). Seeded, so runs repeat; sizes lognormal (median 16 KiB), clamped to
// 1 KiB..4 MiB, independent of popularity. Counted after a 20% warm-up, by requests.
//
//   tier_hit_ratio [--objects N] [--requests N] [--alpha A] [--path FILE]

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/disk_store.h"
#include "storage/memory_store.h"
#include "storage/tiered_store.h"

namespace {

using namespace ec::storage;

ObjectRef makeObject(uint64_t size) {
  ec::cache::ObjectMeta meta;
  meta.head = "Content-Type: image/jpeg\r\n";
  meta.content_length = static_cast<int64_t>(size);
  auto body = std::make_shared<Body>(size);
  body->append(std::string(size, 'z'));
  body->finish();
  return std::make_shared<CachedObject>(std::move(meta), body);
}

struct Result {
  uint64_t hits = 0;
  uint64_t counted = 0;
};

Result replay(Store& store, const std::vector<uint32_t>& trace, const std::vector<uint64_t>& sizes,
              TieredStore* tiered) {
  Result result;
  ec::http::Fields none;
  const size_t warmup = trace.size() / 5;
  for (size_t i = 0; i < trace.size(); ++i) {
    const std::string key = "http://upload.test/" + std::to_string(trace[i]);
    const bool hit = store.find(key, none) != nullptr;
    if (!hit) store.insert(key, "", makeObject(sizes[trace[i]]));
    if (i >= warmup) {
      ++result.counted;
      result.hits += hit;
    }
    if (tiered && i % 2000 == 1999) tiered->settleForTest();
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t objects = 20000;
  uint64_t requests = 200000;
  double alpha = 0.9;
  std::string path = "/tmp/ec_tier_hit_ratio.bin";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--objects") objects = std::strtoull(argv[i + 1], nullptr, 10);
    else if (arg == "--requests") requests = std::strtoull(argv[i + 1], nullptr, 10);
    else if (arg == "--alpha") alpha = std::strtod(argv[i + 1], nullptr);
    else if (arg == "--path") path = argv[i + 1];
  }
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> size_dist(std::log(16384.0), 1.2);
  std::vector<uint64_t> sizes(objects);
  uint64_t working_set = 0;
  for (auto& size : sizes) {
    size = std::clamp<uint64_t>(static_cast<uint64_t>(size_dist(rng)), 1024, 4 << 20);
    working_set += size;
  }
  std::vector<double> cdf(objects);
  double total = 0;
  for (uint64_t k = 0; k < objects; ++k) cdf[k] = (total += 1.0 / std::pow(k + 1.0, alpha));
  std::uniform_real_distribution<double> uniform(0, total);
  std::vector<uint32_t> trace(requests);
  for (auto& r : trace) {
    r = static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), uniform(rng)) - cdf.begin());
  }
  const uint64_t memory_bytes = working_set / 10;
  std::printf("Zipf alpha %.2f, %llu objects, working set %.1f MiB, memory tier %.1f MiB, %llu requests\n",
              alpha, static_cast<unsigned long long>(objects), working_set / 1048576.0,
              memory_bytes / 1048576.0, static_cast<unsigned long long>(requests));

  auto memoryOptions = [&] {
    MemoryStoreOptions options;
    options.capacity_bytes = memory_bytes;
    options.shards = 4;
    options.max_object_bytes = 4 << 20;
    return options;
  };
  {
    MemoryStore memory(memoryOptions());
    const Result r = replay(memory, trace, sizes, nullptr);
    std::printf("memory only            hit ratio %.3f\n", double(r.hits) / double(r.counted));
  }
  for (const auto admission : {TieredStoreOptions::Admission::kExponential, TieredStoreOptions::Admission::kAll}) {
    for (const uint64_t disk_factor : {1, 2}) {
      std::remove(path.c_str());
      DiskStoreOptions disk;
      disk.path = path;
      disk.size_bytes = working_set * disk_factor * 12 / 10 + (64 << 20);
      disk.sync_interval_ms = 0;
      std::vector<std::unique_ptr<DiskStore>> disks;
      disks.push_back(DiskStore::open(disk));
      TieredStoreOptions options;
      options.admission = admission;
      TieredStore tiered(std::make_unique<MemoryStore>(memoryOptions()), std::move(disks), options);
      const Result r = replay(tiered, trace, sizes, &tiered);
      std::printf("memory + disk %.1fx WS %s  hit ratio %.3f (memory %llu, disk %llu hits)\n",
                  disk_factor * 1.2, admission == TieredStoreOptions::Admission::kAll ? "all " : "exp ",
                  double(r.hits) / double(r.counted),
                  static_cast<unsigned long long>(tiered.memoryHits()),
                  static_cast<unsigned long long>(tiered.diskHits()));
    }
  }
  std::remove(path.c_str());
  return 0;
}
