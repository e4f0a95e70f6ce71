#include "storage/s3_fifo_policy.h"

#include <algorithm>

#include "base/check.h"

namespace ec::storage {

S3FifoPolicy::S3FifoPolicy(uint64_t capacity_bytes)
    : small_target_(capacity_bytes / 100 * kSmallPercent +
                    capacity_bytes % 100 * kSmallPercent / 100),
      ghost_capacity_(capacity_bytes - small_target_) {
  ghost_index_.reserve(expectedObjects(ghost_capacity_));
}

detail::NodeList& S3FifoPolicy::listOf(const PolicyNode& node) {
  EC_DCHECK(node.queue == kSmall || node.queue == kMain);
  return node.queue == kSmall ? small_ : main_;
}

void S3FifoPolicy::admit(PolicyNode* node) {
  node->freq = 0;
  if (takeGhost(node->key_hash)) {
    node->queue = kMain;
    main_.pushFront(node);
  } else {
    node->queue = kSmall;
    small_.pushFront(node);
  }
}

void S3FifoPolicy::touch(PolicyNode* node) {
  node->freq = static_cast<uint8_t>(std::min<int>(node->freq + 1, kMaxFreq));
}

void S3FifoPolicy::replace(PolicyNode* node, PolicyNode* replacement) {
  replacement->queue = node->queue;
  replacement->freq = node->freq;
  listOf(*node).swap(node, replacement);
  node->queue = kNone;
}

void S3FifoPolicy::remove(PolicyNode* node) {
  listOf(*node).unlink(node);
  node->queue = kNone;
}

void S3FifoPolicy::recharge(PolicyNode* node, uint64_t charge) {
  listOf(*node).recharge(node, charge);
}

PolicyNode* S3FifoPolicy::evict() {
  // Terminates: each round either returns, shrinks the small queue, or lowers a main frequency.
  for (;;) {
    if (!small_.empty() && (small_.bytes() > small_target_ || main_.empty())) {
      PolicyNode* node = small_.back();
      small_.unlink(node);
      if (node->freq >= kPromoteFreq) {
        // Read while on probation: it joins main and must earn its stay there anew.
        node->freq = 0;
        node->queue = kMain;
        main_.pushFront(node);
        continue;
      }
      rememberGhost(*node);
      node->queue = kNone;
      return node;
    }
    if (main_.empty()) return nullptr;
    PolicyNode* node = main_.back();
    main_.unlink(node);
    if (node->freq > 0) {
      --node->freq;
      main_.pushFront(node);
      continue;
    }
    node->queue = kNone;
    return node;
  }
}

void S3FifoPolicy::rememberGhost(const PolicyNode& node) {
  if (node.charge > ghost_capacity_) return;
  while (ghost_size_ > 0 && ghost_bytes_ + node.charge > ghost_capacity_) forgetOldestGhost();
  if (ghost_size_ == ghost_ring_.size()) {
    // Grow the ring, oldest first (rare: the ring keeps its size once the ghost is full).
    std::vector<Ghost> bigger;
    bigger.reserve(std::max<size_t>(64, ghost_ring_.size() * 2));
    for (size_t i = 0; i < ghost_size_; ++i) {
      bigger.push_back(ghost_ring_[(ghost_head_ + i) % ghost_ring_.size()]);
    }
    bigger.resize(bigger.capacity());
    ghost_ring_ = std::move(bigger);
    ghost_head_ = 0;
  }
  ghost_ring_[(ghost_head_ + ghost_size_) % ghost_ring_.size()] =
      Ghost{node.key_hash, ++ghost_seq_, node.charge};
  ++ghost_size_;
  ghost_bytes_ += node.charge;
  auto it = ghost_index_.find(node.key_hash);
  if (it != ghost_index_.end()) {
    it->second = ghost_seq_;
  } else if (spare_ghost_node_) {
    spare_ghost_node_.key() = node.key_hash;
    spare_ghost_node_.mapped() = ghost_seq_;
    ghost_index_.insert(std::move(spare_ghost_node_));
    spare_ghost_node_ = GhostIndex::node_type();
  } else {
    ghost_index_.emplace(node.key_hash, ghost_seq_);
  }
}

void S3FifoPolicy::forgetOldestGhost() {
  const Ghost& oldest = ghost_ring_[ghost_head_];
  auto it = ghost_index_.find(oldest.key_hash);
  if (it != ghost_index_.end() && it->second == oldest.seq) {
    spare_ghost_node_ = ghost_index_.extract(it);
  }
  ghost_bytes_ -= oldest.charge;
  ghost_head_ = (ghost_head_ + 1) % ghost_ring_.size();
  --ghost_size_;
}

bool S3FifoPolicy::takeGhost(uint64_t key_hash) {
  auto it = ghost_index_.find(key_hash);
  if (it == ghost_index_.end()) return false;
  // The ring record stays (its bytes age out with it); only the membership goes.
  spare_ghost_node_ = ghost_index_.extract(it);
  return true;
}

}  // namespace ec::storage
