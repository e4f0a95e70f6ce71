// Purges racing fetches, on real threads (also run under TSan): whatever the interleaving, an
// object a fetch stores after a purge of its key was fetched after that purge began.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cache/cache_key.h"
#include "proxy/coalescer.h"
#include "purge/purger.h"
#include "storage/memory_store.h"

namespace ec::proxy {
namespace {

constexpr int kKeys = 8;

storage::ObjectRef objectWithVersion(uint64_t version) {
  cache::ObjectMeta meta;
  meta.head = "X-Version: " + std::to_string(version) + "\r\n";
  auto body = std::make_shared<storage::Body>(0);
  body->finish();
  return std::make_shared<storage::CachedObject>(std::move(meta), std::move(body));
}

TEST(PurgeFence, ConcurrentFetchesNeverStoreABodyFromBeforeAPurge) {
  storage::MemoryStoreOptions options;
  options.capacity_bytes = 64 << 20;
  options.shards = 4;
  options.max_object_bytes = 1 << 20;
  storage::MemoryStore store(options);
  Coalescer coalescer;
  purge::Purger purger(
      store,
      [&coalescer](const std::string& key, purge::Purger::FencePhase phase) {
        if (phase == purge::Purger::FencePhase::kBegin) coalescer.fence(key);
        else coalescer.fenceDone(key);
      },
      *purge::PurgeSettings::build({}, ""));
  std::vector<std::string> keys;
  for (int k = 0; k < kKeys; ++k) keys.push_back(cache::primaryKey("http", "w.test", "/p" + std::to_string(k)));
  // The "origin content" version of each key: an edit bumps it, then purges.
  std::array<std::atomic<uint64_t>, kKeys> version{};
  // The version each key had when its last purge returned: from then on nothing older may be
  // found in the store.
  std::array<std::atomic<uint64_t>, kKeys> purged_version{};
  std::atomic<uint64_t> violations{0};
  std::atomic<bool> stop{false};
  net::EventLoop loop;  // followers' wake-ups queue here (never run: nobody waits on them)

  auto fetcher = [&](int seed) {
    for (uint64_t i = 0; !stop.load(); ++i) {
      const int k = static_cast<int>((i * 7 + seed) % kKeys);
      uint64_t flight = 0;
      if (coalescer.join(keys[k], Follower{&loop, {}}, &flight) != Coalescer::Role::kLeader) continue;
      // The request reaches the origin after the flight exists; the body it gets is this one.
      auto object = objectWithVersion(version[k].load());
      std::this_thread::yield();  // the origin takes a while
      coalescer.storeIfCurrent(keys[k], flight, [&] { store.insert(keys[k], "", object); });
      coalescer.complete(keys[k], CoalescedOutcome{}, flight);
    }
  };
  auto editor = [&] {
    for (uint64_t i = 0; !stop.load(); ++i) {
      const int k = static_cast<int>(i % kKeys);
      const uint64_t edited = version[k].fetch_add(1) + 1;
      purger.purge(purge::PurgeSource::kHtcp, purge::PurgeTarget{"http", "w.test", "/p" + std::to_string(k)});
      purged_version[k].store(edited);
    }
  };
  auto checker = [&] {
    while (!stop.load()) {
      for (int k = 0; k < kKeys; ++k) {
        const uint64_t floor = purged_version[k].load();
        if (auto object = store.find(keys[k], {})) {
          if (std::stoull(object->meta().head.substr(11)) < floor) violations.fetch_add(1);
        }
      }
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(fetcher, 1);
  threads.emplace_back(fetcher, 3);
  threads.emplace_back(editor);
  threads.emplace_back(checker);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop.store(true);
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(violations.load(), 0u) << "a body from before a purge was found after it";
  for (int k = 0; k < kKeys; ++k) {
    if (auto object = store.find(keys[k], {})) {
      EXPECT_EQ(object->meta().head, "X-Version: " + std::to_string(version[k].load()) + "\r\n")
          << "key " << k << " holds a body from before its last purge";
    }
  }
  EXPECT_GT(purger.stats().applied[static_cast<size_t>(purge::PurgeSource::kHtcp)].load(), 0u);
}

}  // namespace
}  // namespace ec::proxy
