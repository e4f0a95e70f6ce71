#pragma once
// Coalescer: request coalescing across all workers. The first miss on a key becomes the
// leader and fetches; later misses on the same key (from any worker) wait as followers and
// are woken on their own loop when the leader knows the outcome: an object to read while it
// is written, "uncacheable" (each follower then fetches for itself, and the key is marked
// hit-for-pass so later requests do not queue), or an error status.
// Also owns the hit-for-pass marks (key -> until when).

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/time_source.h"
#include "net/event_loop.h"
#include "storage/cached_object.h"

namespace ec::proxy {

struct CoalescedOutcome {
  enum class Kind { kObject, kUncacheable, kError } kind = Kind::kError;
  storage::ObjectRef object;  // kObject
  std::string secondary;      // kObject: the variant the object answers
  int error_status = 502;     // kError
};

// A follower: called on `loop` with the outcome, unless the follower went away (the weak
// handle expired) in the meantime.
struct Follower {
  net::EventLoop* loop = nullptr;
  std::weak_ptr<std::function<void(const CoalescedOutcome&)>> callback;
};

class Coalescer {
 public:
  enum class Role { kLeader, kFollower };
  // Becomes the leader for `key`, or joins as a follower.
  Role join(const std::string& key, Follower follower);
  // The leader reports; every follower is woken on its own loop. The key is free again.
  void complete(const std::string& key, const CoalescedOutcome& outcome);

  void markHitForPass(const std::string& key, WallTime until);
  bool isHitForPass(const std::string& key, WallTime now);
  void clearHitForPass(const std::string& key);

  uint64_t coalescedTotal() const { return coalesced_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 32;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<Follower>> in_flight;
    std::unordered_map<std::string, WallTime> hit_for_pass;
  };
  Shard& shardFor(std::string_view key);

  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> coalesced_{0};
};

}  // namespace ec::proxy
