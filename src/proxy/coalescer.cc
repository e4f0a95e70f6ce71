#include "proxy/coalescer.h"

namespace ec::proxy {

Coalescer::Shard& Coalescer::shardFor(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

Coalescer::Role Coalescer::join(const std::string& key, Follower follower) {
  Shard& shard = shardFor(key);
  std::lock_guard lock(shard.mutex);
  auto [it, inserted] = shard.in_flight.try_emplace(key);
  if (inserted) return Role::kLeader;
  it->second.push_back(std::move(follower));
  coalesced_.fetch_add(1, std::memory_order_relaxed);
  return Role::kFollower;
}

void Coalescer::complete(const std::string& key, const CoalescedOutcome& outcome) {
  std::vector<Follower> followers;
  {
    Shard& shard = shardFor(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.in_flight.find(key);
    if (it == shard.in_flight.end()) return;
    followers = std::move(it->second);
    shard.in_flight.erase(it);
  }
  for (Follower& follower : followers) {
    follower.loop->post([callback = follower.callback, outcome] {
      if (auto fn = callback.lock()) (*fn)(outcome);
    });
  }
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
