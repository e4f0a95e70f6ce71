// eviction_sim: hit ratios of the memory tier's replacement policies on synthetic CDN traces.
//
// Each trace draws requests from a Zipf(alpha) popularity over N distinct objects whose sizes are
// lognormal, clamped to 1 KiB..8 MiB, and independent of popularity (seeded: runs repeat
// exactly). Each request is a lookup; a miss admits the object and evicts until the bound holds,
// as MemoryStore does, through the same EvictionPolicy classes and the same per-shard split of
// the capacity. Hit ratios are counted after a warm-up (the first 20% of requests), by objects and
// by bytes, for cache sizes given as a share of the working set (the sum of all object sizes).
//
//   eviction_sim [--requests N] [--objects N] [--shards N] [--seed N] [--warmup-percent N]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "storage/cached_object.h"
#include "storage/lru_policy.h"
#include "storage/memory_store.h"
#include "storage/s3_fifo_policy.h"

namespace {

using ec::storage::EvictionPolicy;
using ec::storage::MemoryStoreOptions;
using ec::storage::PolicyNode;

constexpr uint64_t kMinSize = 1 << 10;
constexpr uint64_t kMaxSize = 8 << 20;
// Charged on top of the body, as MemoryStore would: head, keys and index overhead.
constexpr uint64_t kMetaCharge = 400 + ec::storage::CachedObject::kIndexOverheadBytes;

struct Settings {
  uint64_t requests = 2'000'000;
  uint32_t objects = 200'000;
  size_t shards = 16;
  uint64_t seed = 20240601;
  uint64_t warmup_percent = 20;
};

struct Trace {
  double alpha;
  std::vector<uint64_t> sizes;     // by object id
  std::vector<uint32_t> requests;  // object ids
  uint64_t working_set = 0;
};

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: object id -> key hash and shard
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

Trace makeTrace(const Settings& settings, double alpha) {
  Trace trace;
  trace.alpha = alpha;
  std::mt19937_64 rng(settings.seed);
  // Median 16 KiB, sigma 1.8: mostly pages and thumbnails, a long tail of media.
  std::lognormal_distribution<double> size_dist(std::log(16.0 * 1024), 1.8);
  trace.sizes.resize(settings.objects);
  for (uint64_t& size : trace.sizes) {
    size = std::clamp<uint64_t>(static_cast<uint64_t>(size_dist(rng)), kMinSize, kMaxSize);
    trace.working_set += size;
  }
  // Popularity rank -> object id, shuffled so that size and popularity are independent.
  std::vector<uint32_t> by_rank(settings.objects);
  std::iota(by_rank.begin(), by_rank.end(), 0);
  std::shuffle(by_rank.begin(), by_rank.end(), rng);
  std::vector<double> cdf(settings.objects);
  double sum = 0;
  for (uint32_t rank = 0; rank < settings.objects; ++rank) {
    sum += 1.0 / std::pow(static_cast<double>(rank + 1), alpha);
    cdf[rank] = sum;
  }
  std::uniform_real_distribution<double> unit(0.0, sum);
  trace.requests.resize(settings.requests);
  for (uint32_t& request : trace.requests) {
    const auto it = std::lower_bound(cdf.begin(), cdf.end(), unit(rng));
    request = by_rank[std::min<size_t>(it - cdf.begin(), settings.objects - 1)];
  }
  return trace;
}

struct Result {
  double object_hit_ratio;
  double byte_hit_ratio;
  double ns_per_request;
};

Result simulate(const Settings& settings, const Trace& trace, MemoryStoreOptions::Policy kind,
                uint64_t capacity) {
  const uint64_t shard_capacity = capacity / settings.shards;
  std::vector<std::unique_ptr<EvictionPolicy>> shards;
  for (size_t i = 0; i < settings.shards; ++i) {
    shards.push_back(ec::storage::makeEvictionPolicy(kind, shard_capacity));
  }
  std::vector<PolicyNode> nodes(trace.sizes.size());
  std::vector<uint8_t> resident(trace.sizes.size(), 0);
  std::vector<uint32_t> shard_of(trace.sizes.size());
  for (uint32_t id = 0; id < nodes.size(); ++id) {
    nodes[id].key_hash = mix(id);
    nodes[id].charge = trace.sizes[id] + kMetaCharge;
    shard_of[id] = static_cast<uint32_t>(mix(nodes[id].key_hash) % settings.shards);
  }
  const size_t warmup = trace.requests.size() * settings.warmup_percent / 100;
  uint64_t hits = 0, requests = 0, hit_bytes = 0, requested_bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < trace.requests.size(); ++i) {
    const uint32_t id = trace.requests[i];
    EvictionPolicy& policy = *shards[shard_of[id]];
    const bool hit = resident[id] != 0;
    if (hit) {
      policy.touch(&nodes[id]);
    } else if (nodes[id].charge <= shard_capacity) {  // larger ones stream through
      policy.admit(&nodes[id]);
      resident[id] = 1;
      while (policy.bytes() > shard_capacity) {
        PolicyNode* victim = policy.evict();
        resident[victim - nodes.data()] = 0;
      }
    }
    if (i >= warmup) {
      ++requests;
      requested_bytes += trace.sizes[id];
      if (hit) {
        ++hits;
        hit_bytes += trace.sizes[id];
      }
    }
  }
  const double elapsed_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return Result{static_cast<double>(hits) / static_cast<double>(requests),
                static_cast<double>(hit_bytes) / static_cast<double>(requested_bytes),
                elapsed_ns / static_cast<double>(trace.requests.size())};
}

bool parseArgs(int argc, char** argv, Settings& settings) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return false;
    const uint64_t value = std::strtoull(argv[++i], nullptr, 10);
    if (flag == "--requests") {
      settings.requests = value;
    } else if (flag == "--objects") {
      settings.objects = static_cast<uint32_t>(value);
    } else if (flag == "--shards") {
      settings.shards = value;
    } else if (flag == "--seed") {
      settings.seed = value;
    } else if (flag == "--warmup-percent") {
      settings.warmup_percent = value;
    } else {
      return false;
    }
  }
  return settings.requests > 0 && settings.objects > 0 && settings.shards > 0 &&
         settings.warmup_percent < 100;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (!parseArgs(argc, argv, settings)) {
    std::fprintf(stderr,
                 "usage: eviction_sim [--requests N] [--objects N] [--shards N] [--seed N] "
                 "[--warmup-percent N]\n");
    return 2;
  }
  std::printf(
      "requests %llu, objects %u, sizes lognormal(median 16 KiB, sigma 1.8) in "
      "[1 KiB, 8 MiB], shards %zu, seed %llu, warm-up %llu%%\n\n",
      static_cast<unsigned long long>(settings.requests), settings.objects, settings.shards,
      static_cast<unsigned long long>(settings.seed),
      static_cast<unsigned long long>(settings.warmup_percent));
  std::printf(
      "| alpha | cache (%% of working set) | object hit S3-FIFO | object hit LRU | "
      "byte hit S3-FIFO | byte hit LRU | ns/req S3-FIFO | ns/req LRU |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (double alpha : {0.8, 1.0}) {
    const Trace trace = makeTrace(settings, alpha);
    for (uint64_t percent : {1, 5, 10}) {
      const uint64_t capacity = trace.working_set / 100 * percent;
      const Result s3 = simulate(settings, trace, MemoryStoreOptions::Policy::kS3Fifo, capacity);
      const Result lru = simulate(settings, trace, MemoryStoreOptions::Policy::kLru, capacity);
      std::printf("| %.1f | %llu%% (%.0f MiB) | %.4f | %.4f | %.4f | %.4f | %.0f | %.0f |\n", alpha,
                  static_cast<unsigned long long>(percent),
                  static_cast<double>(capacity) / (1 << 20), s3.object_hit_ratio,
                  lru.object_hit_ratio, s3.byte_hit_ratio, lru.byte_hit_ratio, s3.ns_per_request,
                  lru.ns_per_request);
      std::fflush(stdout);
    }
  }
  return 0;
}
