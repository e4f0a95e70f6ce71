#pragma once
// Coalescer: request coalescing across all workers. The first miss on a key becomes the
// leader and fetches; later misses on the same key (from any worker) wait as followers and
// are woken on their own loop when the leader knows the outcome: an object to read while it
// is written, "uncacheable" (each follower then fetches for itself, and the key is marked
// hit-for-pass so later requests do not queue), or an error status.
// Also owns the hit-for-pass marks (key -> until when).
// Purges fence flights: a purge of a key detaches the fetch in flight for it (its followers
// still get its outcome, as they asked before the purge), so the next miss leads a new fetch,
// and the detached fetch may no longer store what it receives (storeIfCurrent), so an older
// body still arriving is never served after the purge.

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
  // Becomes the leader for `key`, or joins as a follower. A leader gets its flight id in
  // `*flight` (for complete and storeIfCurrent).
  Role join(const std::string& key, Follower follower, uint64_t* flight = nullptr);
  // The leader reports; every follower of its flight is woken on its own loop. The key is
  // free again. `flight` 0 means the key's current flight.
  void complete(const std::string& key, const CoalescedOutcome& outcome, uint64_t flight = 0);

  // Runs `store` (a Store::insert) under the key's lock when no purge fenced `flight` since
  // it began; returns whether it ran. A purge fences before it erases, so either the insert
  // happens first and the purge erases it, or the fetch sees the fence and does not insert.
  bool storeIfCurrent(const std::string& key, uint64_t flight, const std::function<void()>& store);
  // A purge of `key` begins: detaches the flight in progress (if any), clears hit-for-pass and
  // marks the key's purge slot; fenceDone() once the purge has erased every tier.
  void fence(const std::string& key);
  void fenceDone(const std::string& key);

  // Purge marks guard disk-tier promotions (a disk read that began before a purge must not
  // put the old object into memory after it). purgeMark() before the read; the promotion
  // runs only if no purge of the key's slot was in progress then or began since. Slots are
  // shared by hash (kPurgeSlots), so an unrelated purge may skip a promotion, never the reverse.
  uint64_t purgeMark(const std::string& key) const;
  bool promoteIfUnpurged(const std::string& key, uint64_t mark, const std::function<void()>& promote);

  void markHitForPass(const std::string& key, WallTime until);
  bool isHitForPass(const std::string& key, WallTime now);
  void clearHitForPass(const std::string& key);

  uint64_t coalescedTotal() const { return coalesced_.load(std::memory_order_relaxed); }
  uint64_t fencedTotal() const { return fenced_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 32;
  struct Flight {
    uint64_t id = 0;
    std::vector<Follower> followers;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Flight> in_flight;
    // Flights a purge detached from their key, by id, until their leader completes.
    std::unordered_map<uint64_t, std::vector<Follower>> detached;
    std::unordered_map<std::string, WallTime> hit_for_pass;
  };
  Shard& shardFor(std::string_view key);

  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> coalesced_{0};
  std::atomic<uint64_t> fenced_{0};          // flights detached by a purge
  std::atomic<uint64_t> next_flight_{1};
  // Per slot: purges begun (high 40 bits) and purges in progress (low 24 bits), one word so a
  // single load tells both.
  static constexpr size_t kPurgeSlots = 4096;
  static constexpr uint64_t kInProgressBits = 24;
  std::array<std::atomic<uint64_t>, kPurgeSlots> purge_marks_{};
  std::atomic<uint64_t>& markFor(std::string_view key);
  const std::atomic<uint64_t>& markFor(std::string_view key) const;
};

}  // namespace ec::proxy
