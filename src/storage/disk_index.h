#pragma once
// DiskIndex: the disk tier's in-memory index, 24 bytes per slot in one flat open-addressing
// table (linear probing, backward-shift deletion, no tombstones), sized from the store size (or
// the checkpoint's entry count) at 0.8 load and grown by 1.2x past 0.9, so it holds its objects
// at 0.75-0.9 load: 26.7-32 bytes per object once grown (docs/design/disk-store.md has the
// measured figures). Several entries may share a key hash (Vary variants, hash collisions): the head
// record on disk holds the full keys and settles every match. Not thread-safe: DiskStore
// guards it with its mutex.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ec::storage::disk {

struct IndexEntry {
  uint64_t key = 0;        // primary-key hash; 0 marks an empty slot
  uint64_t head_word = 0;  // head position / kRecordAlign (48 bits, modulo) | head units (16)
  uint32_t span_word = 0;  // (head - first fragment) in 512-byte units (24 bits) | secondary tag
  uint32_t size_word = 0;  // body bytes in KiB, rounded up (24 bits) | vary tag (8)

  static constexpr uint64_t kMaxSpanBytes = ((1ull << 24) - 1) * 512;
  static constexpr uint64_t kMaxHeadBytes = ((1ull << 16) - 1) * 16;
  static constexpr uint64_t kMaxBodyBytes = ((1ull << 24) - 1) * 1024;

  // `head` is the head record's logical position (16-byte aligned), the others in bytes.
  static IndexEntry make(uint64_t key, uint64_t head, uint64_t head_bytes, uint64_t span_bytes,
                         uint64_t body_bytes, uint8_t secondary_tag, uint8_t vary_tag) {
    IndexEntry e;
    e.key = key;
    e.head_word = (((head / 16) & ((1ull << 48) - 1)) << 16) | ((head_bytes / 16) & 0xffff);
    e.span_word = static_cast<uint32_t>(((span_bytes + 511) / 512) << 8) | secondary_tag;
    e.size_word = static_cast<uint32_t>(((body_bytes + 1023) / 1024) << 8) | vary_tag;
    return e;
  }
  // The head position, given any position `near` at or after it and less than 2^52 bytes on
  // (the write position: every live record lies within one store size of it).
  uint64_t head(uint64_t near) const {
    constexpr uint64_t kModulo = 1ull << 52;
    const uint64_t low = (head_word >> 16) * 16;
    const uint64_t base = near & ~(kModulo - 1);
    uint64_t h = base | low;
    if (h > near) h -= kModulo;
    return h;
  }
  uint64_t headBytes() const { return (head_word & 0xffff) * 16; }
  uint64_t spanBytes() const { return uint64_t{span_word >> 8} * 512; }
  uint64_t bodyBytesCeil() const { return uint64_t{size_word >> 8} * 1024; }
  uint8_t secondaryTag() const { return static_cast<uint8_t>(span_word & 0xff); }
  uint8_t varyTag() const { return static_cast<uint8_t>(size_word & 0xff); }
  // Lowest logical position the object may occupy (never above the real one).
  uint64_t first(uint64_t near) const {
    const uint64_t h = head(near);
    return h > spanBytes() ? h - spanBytes() : 0;
  }
  // Bytes charged for the object (body + head record).
  uint64_t chargedBytes() const { return bodyBytesCeil() + headBytes(); }
};
static_assert(sizeof(IndexEntry) == 24, "the index entry is part of the memory budget");

class DiskIndex {
 public:
  // Room for `expected_objects` at the target load; grows (x kGrowth) past kMaxLoad.
  explicit DiskIndex(size_t expected_objects);
  // Makes room for `objects` in all at the target load (a checkpoint's count) unless there is.
  void reserve(size_t objects);
  // Appends the entries of slots [from, from + count) (clamped) to `out`; returns the next
  // slot. A snapshot taken in pieces (the checkpoint copies a few thousand slots per lock).
  size_t copySlots(size_t from, size_t count, std::vector<IndexEntry>& out) const;

  void insert(const IndexEntry& entry);
  // Calls fn(const IndexEntry&) for every entry with `key`.
  template <typename Fn>
  void forEachWithKey(uint64_t key, Fn&& fn) const {
    for (size_t i = slotFor(key);; i = next(i)) {
      if (slots_[i].key == 0) return;
      if (slots_[i].key == key) fn(slots_[i]);
    }
  }
  // Removes every entry with `key` for which pred(entry) holds; returns how many.
  template <typename Pred>
  size_t removeWithKey(uint64_t key, Pred&& pred) {
    size_t removed = 0;
    size_t i = slotFor(key);
    while (slots_[i].key != 0) {
      if (slots_[i].key == key && pred(slots_[i])) {
        removeAt(i);  // shifts a later entry into i: look at i again
        ++removed;
      } else {
        i = next(i);
      }
    }
    return removed;
  }
  // Removes every entry for which pred holds (segment reclaim), calling on_remove(entry) for
  // each before it goes. Returns how many.
  template <typename Pred, typename OnRemove>
  size_t removeAllIf(Pred&& pred, OnRemove&& on_remove) {
    size_t removed = 0;
    // Start after an empty slot so a backward shift never moves an unvisited entry behind us.
    size_t start = 0;
    while (slots_[start].key != 0) start = next(start);
    size_t i = next(start);
    for (size_t visited = 0; visited < capacity_;) {
      if (slots_[i].key != 0 && pred(slots_[i])) {
        on_remove(slots_[i]);
        removeAt(i);
        ++removed;
        continue;  // i now holds a shifted entry (or is empty)
      }
      i = next(i);
      ++visited;
    }
    return removed;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  size_t memoryBytes() const { return capacity_ * sizeof(IndexEntry); }
  void clear();

  static constexpr double kTargetLoad = 0.8;
  static constexpr double kMaxLoad = 0.9;
  // 0.9 / 1.2 = 0.75: a grown table stays at or above 0.75 load (<= 32 bytes per object).
  static constexpr double kGrowth = 1.2;

 private:
  size_t slotFor(uint64_t key) const {
    __extension__ typedef unsigned __int128 Wide;  // multiply-shift range reduction
    return static_cast<size_t>((static_cast<Wide>(key) * capacity_) >> 64);
  }
  size_t next(size_t i) const { return i + 1 == capacity_ ? 0 : i + 1; }
  void removeAt(size_t i);
  void grow();
  void rehash(size_t capacity);

  std::unique_ptr<IndexEntry[]> slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace ec::storage::disk
