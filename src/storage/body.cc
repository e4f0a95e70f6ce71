#include "storage/body.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

#include "base/check.h"

namespace ec::storage {
namespace {

constexpr size_t kInitialDirectoryCapacity = 8;

// Every mapped chunk is a VMA, and the kernel caps VMAs per process (vm.max_map_count, 65530
// by default); running out would make malloc's own mmap fail. So mapped chunks are capped at
// half the limit and the rest use the heap (copied on send, still correct).
std::atomic<int64_t> g_mapped_chunks{0};

int64_t mappedChunkCap() {
  static const int64_t cap = [] {
    int64_t limit = 65530;
    if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
      long long value = 0;
      if (std::fscanf(f, "%lld", &value) == 1 && value > 0) limit = value;
      std::fclose(f);
    }
    return limit / 2;
  }();
  return cap;
}

size_t pageRounded(size_t bytes) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

}  // namespace

Body::ChunkMemory::ChunkMemory(uint32_t capacity) {
  if (capacity >= kMappedChunkMinBytes &&
      g_mapped_chunks.fetch_add(1, std::memory_order_relaxed) < mappedChunkCap()) {
    const size_t bytes = pageRounded(capacity);
    // Populated up front: one call faults every page in, instead of one fault per page as the
    // bytes arrive (the chunk is about to be filled anyway; a 256 KiB disk hit saves ~64 faults).
    void* mapping = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mapping != MAP_FAILED) {
      data_ = static_cast<char*>(mapping);
      mapped_bytes_ = bytes;
      return;
    }
    g_mapped_chunks.fetch_sub(1, std::memory_order_relaxed);
    // Out of mappings: a heap chunk still works, it is just copied on send.
  } else if (capacity >= kMappedChunkMinBytes) {
    g_mapped_chunks.fetch_sub(1, std::memory_order_relaxed);  // over the cap
  }
  data_ = new char[capacity];
}

Body::ChunkMemory::~ChunkMemory() {
  if (data_ == nullptr) return;
  if (foreign_ && mapped_bytes_ == 0) return;  // the store's mapping
  if (mapped_bytes_ != 0) {
    ::munmap(map_base_ != nullptr ? map_base_ : data_, mapped_bytes_);
    g_mapped_chunks.fetch_sub(1, std::memory_order_relaxed);
  } else {
    delete[] data_;
  }
}

Body::Body(uint64_t expected_size, uint64_t base, uint64_t end)
    : expected_size_(expected_size),
      base_(base),
      end_(end),
      charged_(sizeof(Body) + sizeof(Directory) + kInitialDirectoryCapacity * sizeof(Chunk)),
      owned_directory_(std::make_unique<Directory>(kInitialDirectoryCapacity)) {
  directory_.store(owned_directory_.get(), std::memory_order_relaxed);
  written_ = base;
  allocated_end_ = base;
  available_.store(base, std::memory_order_relaxed);
}

Body::~Body() = default;

uint32_t Body::nextChunkCapacity() const {
  const uint64_t known_end = std::min(expected_size_, end_);
  if (allocated_end_ < known_end) {
    return static_cast<uint32_t>(
        std::min<uint64_t>(known_end - allocated_end_, kMaxKnownChunkBytes));
  }
  // Unknown (or overrun) size: double the body so far, so waste stays under half.
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(allocated_end_, kMinChunkBytes, kMaxGrowChunkBytes));
}

size_t Body::makeRoomFor(size_t index) {
  Directory* dir = owned_directory_.get();
  if (index < dir->capacity) return 0;
  // Copy into a bigger directory; readers holding the old pointer keep reading it.
  auto bigger = std::make_unique<Directory>(dir->capacity * 2);
  std::copy(dir->chunks.get(), dir->chunks.get() + index, bigger->chunks.get());
  bigger->retired = std::move(owned_directory_);
  owned_directory_ = std::move(bigger);
  return sizeof(Directory) + owned_directory_->capacity * sizeof(Chunk);
}

void Body::addChunk(uint32_t capacity) {
  ChunkMemory memory(capacity);
  const size_t index = chunk_count_.load(std::memory_order_relaxed);
  const size_t extra_charge =
      (memory.mappedBytes() != 0 ? memory.mappedBytes() : capacity) + makeRoomFor(index);
  Directory* dir = owned_directory_.get();
  dir->chunks[index] = Chunk{allocated_end_, memory.data(), capacity, memory.mappedBytes() != 0};
  directory_.store(dir, std::memory_order_release);
  chunk_count_.store(index + 1, std::memory_order_release);
  allocated_end_ += capacity;
  owned_chunks_.push_back(std::move(memory));
  charged_.fetch_add(extra_charge, std::memory_order_relaxed);
}

void Body::enterNextChunk() {
  if (entered_chunks_ == chunk_count_.load(std::memory_order_relaxed)) {
    addChunk(nextChunkCapacity());
  }
  const Chunk& chunk = owned_directory_->chunks[entered_chunks_++];
  write_ptr_ = const_cast<char*>(chunk.data);
  write_room_ = chunk.capacity;
}

void Body::append(std::string_view data) {
  EC_DCHECK(state() == State::kFilling);
  if (data.empty()) return;
  while (!data.empty()) {
    if (write_room_ == 0) enterNextChunk();
    const size_t n = std::min<size_t>(write_room_, data.size());
    std::memcpy(write_ptr_, data.data(), n);
    write_ptr_ += n;
    write_room_ -= static_cast<uint32_t>(n);
    written_ += n;
    data.remove_prefix(n);
  }
  available_.store(written_, std::memory_order_release);
  notify();
}

int Body::reserve(uint64_t bytes, struct iovec* iov, int max_iov) {
  EC_DCHECK(state() == State::kFilling);
  if (bytes == 0 || max_iov <= 0) return 0;
  if (write_room_ == 0) enterNextChunk();
  int filled = 0;
  iov[filled++] = {write_ptr_, static_cast<size_t>(std::min<uint64_t>(write_room_, bytes))};
  uint64_t covered = iov[0].iov_len;
  for (size_t index = entered_chunks_; covered < bytes && filled < max_iov; ++index) {
    if (index == chunk_count_.load(std::memory_order_relaxed)) addChunk(nextChunkCapacity());
    const Chunk& chunk = owned_directory_->chunks[index];
    const uint64_t n = std::min<uint64_t>(chunk.capacity, bytes - covered);
    iov[filled++] = {const_cast<char*>(chunk.data), static_cast<size_t>(n)};
    covered += n;
  }
  return filled;
}

void Body::commit(uint64_t bytes) {
  EC_DCHECK(state() == State::kFilling);
  if (bytes == 0) return;
  while (bytes > 0) {
    if (write_room_ == 0) enterNextChunk();
    const uint64_t n = std::min<uint64_t>(write_room_, bytes);
    write_ptr_ += n;
    write_room_ -= static_cast<uint32_t>(n);
    written_ += n;
    bytes -= n;
  }
  available_.store(written_, std::memory_order_release);
  notify();
}

void Body::appendMapping(const char* data, uint32_t length, void* map_base, size_t map_bytes) {
  EC_DCHECK(state() == State::kFilling);
  EC_DCHECK(allocated_end_ == written_);
  if (map_bytes != 0) g_mapped_chunks.fetch_add(1, std::memory_order_relaxed);
  ChunkMemory memory(const_cast<char*>(data), map_base, map_bytes);
  const size_t index = chunk_count_.load(std::memory_order_relaxed);
  const size_t extra_charge = length + makeRoomFor(index);
  Directory* dir = owned_directory_.get();
  dir->chunks[index] = Chunk{written_, data, length, /*mapped=*/true};
  directory_.store(dir, std::memory_order_release);
  chunk_count_.store(index + 1, std::memory_order_release);
  owned_chunks_.push_back(std::move(memory));
  charged_.fetch_add(extra_charge, std::memory_order_relaxed);
  entered_chunks_ = index + 1;  // the next append starts a new chunk
  write_ptr_ = nullptr;
  write_room_ = 0;
  written_ += length;
  allocated_end_ = written_;
  available_.store(written_, std::memory_order_release);
  notify();
}

void Body::setGuard(std::shared_ptr<const std::atomic<uint64_t>> floor, uint64_t min_position) {
  if (guard_floor_ != nullptr) return;  // the first guarded bytes are the oldest
  guard_position_ = min_position;
  guard_floor_ = std::move(floor);
}

void Body::finish() {
  EC_DCHECK(state() == State::kFilling);
  state_.store(State::kComplete, std::memory_order_release);
  notify();
}

void Body::fail() {
  if (state() != State::kFilling) return;
  state_.store(State::kFailed, std::memory_order_release);
  notify();
}

// The chunk holding `offset` (the last one starting at or before it); *last is the end of the
// published chunks. Lock-free (see the publication protocol in body.h).
const Body::Chunk* Body::chunkAt(uint64_t offset, const Chunk** last) const {
  const size_t count = chunk_count_.load(std::memory_order_acquire);
  const Directory* dir = directory_.load(std::memory_order_acquire);
  const Chunk* first = dir->chunks.get();
  *last = first + count;
  return std::upper_bound(first, *last, offset,
                          [](uint64_t value, const Chunk& c) { return value < c.start; }) -
         1;
}

int Body::fill(const Chunk* chunk, const Chunk* last, uint64_t offset, uint64_t end,
               bool mapped_only, struct iovec* iov, int max_iov) const {
  int filled = 0;
  uint64_t pos = offset;
  for (; chunk != last && pos < end && filled < max_iov; ++chunk) {
    if (mapped_only && !chunk->mapped) break;
    const uint64_t chunk_end = std::min<uint64_t>(chunk->start + chunk->capacity, end);
    if (chunk_end <= pos) continue;
    iov[filled].iov_base = const_cast<char*>(chunk->data + (pos - chunk->start));
    iov[filled].iov_len = static_cast<size_t>(chunk_end - pos);
    ++filled;
    pos = chunk_end;
  }
  return filled;
}

int Body::peek(uint64_t offset, uint64_t max_bytes, struct iovec* iov, int max_iov) const {
  const uint64_t end_available = available();
  if (offset < base_ || offset >= end_available || max_bytes == 0 || max_iov <= 0) return 0;
  if (!valid()) return 0;
  const uint64_t end = offset + std::min(max_bytes, end_available - offset);
  const Chunk* last = nullptr;
  const Chunk* chunk = chunkAt(offset, &last);
  return fill(chunk, last, offset, end, /*mapped_only=*/false, iov, max_iov);
}

int Body::peekMapped(uint64_t offset, uint64_t max_bytes, struct iovec* iov, int max_iov) const {
  const uint64_t end_available = available();
  if (offset < base_ || offset >= end_available || max_bytes == 0 || max_iov <= 0) return 0;
  if (!valid()) return 0;
  const uint64_t end = offset + std::min(max_bytes, end_available - offset);
  const Chunk* last = nullptr;
  const Chunk* chunk = chunkAt(offset, &last);
  return fill(chunk, last, offset, end, /*mapped_only=*/true, iov, max_iov);
}

void Body::subscribe(BodyObserver* observer) {
  std::lock_guard lock(observers_mu_);
  observers_.push_back(observer);
}

void Body::unsubscribe(BodyObserver* observer) {
  std::lock_guard lock(observers_mu_);
  auto it = std::find(observers_.begin(), observers_.end(), observer);
  if (it == observers_.end()) return;
  if (notifying_) {
    *it = nullptr;  // notify() is iterating (on this very thread): compact afterwards
  } else {
    observers_.erase(it);
  }
}

void Body::notify() {
  // Holding the lock while calling out is what makes unsubscribe() a barrier: once it has the
  // lock, no call is in flight and none can start.
  std::lock_guard lock(observers_mu_);
  if (observers_.empty()) return;
  notifying_ = true;
  for (size_t i = 0; i < observers_.size(); ++i) {
    if (observers_[i] != nullptr) observers_[i]->onBodyProgress();
  }
  notifying_ = false;
  std::erase(observers_, nullptr);
}

}  // namespace ec::storage
