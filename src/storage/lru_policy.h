#pragma once
// LruPolicy: least-recently-used replacement, kept as the baseline S3-FIFO is measured against
// (bench/micro/eviction_sim.cc) and as a MemoryStore option. Every hit relinks the node, which is
// why S3-FIFO (hits only bump a counter) is the default.

#include "storage/eviction_policy.h"

namespace ec::storage {

class LruPolicy final : public EvictionPolicy {
 public:
  void admit(PolicyNode* node) override { list_.pushFront(node); }
  void touch(PolicyNode* node) override {
    list_.unlink(node);
    list_.pushFront(node);
  }
  void replace(PolicyNode* node, PolicyNode* replacement) override {
    list_.swap(node, replacement);
    touch(replacement);
  }
  void remove(PolicyNode* node) override { list_.unlink(node); }
  void recharge(PolicyNode* node, uint64_t charge) override { list_.recharge(node, charge); }
  PolicyNode* evict() override {
    PolicyNode* victim = list_.back();
    if (victim != nullptr) list_.unlink(victim);
    return victim;
  }
  uint64_t bytes() const override { return list_.bytes(); }
  size_t count() const override { return list_.count(); }

 private:
  detail::NodeList list_;
};

}  // namespace ec::storage
