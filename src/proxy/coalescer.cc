#include "proxy/coalescer.h"

namespace ec::proxy {

Coalescer::Shard& Coalescer::shardFor(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

Coalescer::Role Coalescer::join(const std::string& key, Follower follower, uint64_t* flight) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
  auto [it, inserted] = shard.in_flight.try_emplace(key);
  if (inserted) {
    it->second.id = next_flight_.fetch_add(1, std::memory_order_relaxed);
    if (flight != nullptr) *flight = it->second.id;
    return Role::kLeader;
  }
  it->second.followers.push_back(std::move(follower));
  coalesced_.fetch_add(1, std::memory_order_relaxed);
  return Role::kFollower;
}

void Coalescer::complete(const std::string& key, const CoalescedOutcome& outcome, uint64_t flight) {
  std::vector<Follower> followers;
  {
    Shard& shard = shardFor(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.in_flight.find(key);
    if (it != shard.in_flight.end() && (flight == 0 || it->second.id == flight)) {
      followers = std::move(it->second.followers);
      shard.in_flight.erase(it);
    } else if (auto detached = shard.detached.find(flight); detached != shard.detached.end()) {
      followers = std::move(detached->second);
      shard.detached.erase(detached);
    } else {
      return;
    }
  }
  for (Follower& follower : followers) {
    follower.loop->post([callback = follower.callback, outcome] {
      if (auto fn = callback.lock()) (*fn)(outcome);
    });
  }
}

bool Coalescer::storeIfCurrent(const std::string& key, uint64_t flight,
                               const std::function<void()>& store) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.in_flight.find(key);
  if (it == shard.in_flight.end() || it->second.id != flight) return false;
  store();
  return true;
}

std::atomic<uint64_t>& Coalescer::markFor(std::string_view key) {
  return purge_marks_[std::hash<std::string_view>{}(key) / kShards % kPurgeSlots];
}

const std::atomic<uint64_t>& Coalescer::markFor(std::string_view key) const {
  return purge_marks_[std::hash<std::string_view>{}(key) / kShards % kPurgeSlots];
}

uint64_t Coalescer::purgeMark(const std::string& key) const {
  return markFor(key).load(std::memory_order_acquire);
}

bool Coalescer::promoteIfUnpurged(const std::string& key, uint64_t mark,
                                  const std::function<void()>& promote) {
  if ((mark & ((uint64_t{1} << kInProgressBits) - 1)) != 0) return false;  // a purge was running
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);  // fence() marks under this lock: no purge begins meanwhile
  if (markFor(key).load(std::memory_order_acquire) != mark) return false;
  promote();
  return true;
}

void Coalescer::fenceDone(const std::string& key) {
  markFor(key).fetch_sub(1, std::memory_order_acq_rel);
}

void Coalescer::fence(const std::string& key) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
  markFor(key).fetch_add((uint64_t{1} << kInProgressBits) + 1, std::memory_order_acq_rel);
  if (!shard.hit_for_pass.empty()) shard.hit_for_pass.erase(key);
  auto it = shard.in_flight.find(key);
  if (it == shard.in_flight.end()) return;
  shard.detached.emplace(it->second.id, std::move(it->second.followers));
  shard.in_flight.erase(it);
  fenced_.fetch_add(1, std::memory_order_relaxed);
}

void Coalescer::markHitForPass(const std::string& key, WallTime until) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
  shard.hit_for_pass[key] = until;
}

bool Coalescer::isHitForPass(const std::string& key, WallTime now) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
  if (shard.hit_for_pass.empty()) return false;
  auto it = shard.hit_for_pass.find(key);
  if (it == shard.hit_for_pass.end()) return false;
  if (it->second > now) return true;
  shard.hit_for_pass.erase(it);
  return false;
}

void Coalescer::clearHitForPass(const std::string& key) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
  shard.hit_for_pass.erase(key);
}

}  // namespace ec::proxy
