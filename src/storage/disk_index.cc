#include "storage/disk_index.h"

#include <algorithm>

namespace ec::storage::disk {

DiskIndex::DiskIndex(size_t expected_objects) {
  capacity_ = std::max<size_t>(16, static_cast<size_t>(expected_objects / kTargetLoad) + 1);
  slots_ = std::make_unique<IndexEntry[]>(capacity_);
}

void DiskIndex::insert(const IndexEntry& entry) {
  if (static_cast<double>(size_ + 1) > kMaxLoad * static_cast<double>(capacity_)) grow();
  size_t i = slotFor(entry.key);
  while (slots_[i].key != 0) i = next(i);
  slots_[i] = entry;
  ++size_;
}

void DiskIndex::removeAt(size_t i) {
  // Backward-shift deletion: pull later entries of the cluster into the hole when their home
  // slot does not lie (cyclically) in (hole, j].
  size_t hole = i;
  size_t j = next(i);
  while (slots_[j].key != 0) {
    const size_t home = slotFor(slots_[j].key);
    const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      slots_[hole] = slots_[j];
      hole = j;
    }
    j = next(j);
  }
  slots_[hole] = IndexEntry{};
  --size_;
}

void DiskIndex::grow() {
  rehash(std::max(capacity_ + 1, static_cast<size_t>(static_cast<double>(capacity_) * kGrowth)));
}

void DiskIndex::reserve(size_t objects) {
  const size_t wanted = static_cast<size_t>(static_cast<double>(objects) / kTargetLoad) + 1;
  if (wanted > capacity_) rehash(wanted);
}

void DiskIndex::rehash(size_t capacity) {
  std::unique_ptr<IndexEntry[]> old = std::move(slots_);
  const size_t old_capacity = capacity_;
  capacity_ = capacity;
  slots_ = std::make_unique<IndexEntry[]>(capacity_);
  size_ = 0;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i].key == 0) continue;
    size_t s = slotFor(old[i].key);
    while (slots_[s].key != 0) s = next(s);
    slots_[s] = old[i];
    ++size_;
  }
}

size_t DiskIndex::copySlots(size_t from, size_t count, std::vector<IndexEntry>& out) const {
  const size_t end = std::min(capacity_, from + count);
  for (size_t i = from; i < end; ++i) {
    if (slots_[i].key != 0) out.push_back(slots_[i]);
  }
  return end;
}

void DiskIndex::clear() {
  std::fill(slots_.get(), slots_.get() + capacity_, IndexEntry{});
  size_ = 0;
}

}  // namespace ec::storage::disk
