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

void Coalescer::fence(const std::string& key) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
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
