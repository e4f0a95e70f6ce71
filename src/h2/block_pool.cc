#include "h2/block_pool.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace ec::h2 {
namespace {

struct Header {
  size_t usable;  // bytes after the header
  unsigned cls;
};
static_assert(sizeof(Header) <= 16);

Header* headerOf(void* block) {
  return reinterpret_cast<Header*>(static_cast<char*>(block) - 16);
}

}  // namespace

BlockPool::BlockPool() {
  mem_.mem_user_data = this;
  mem_.malloc = [](size_t size, void* self) { return static_cast<BlockPool*>(self)->allocate(size); };
  mem_.free = [](void* block, void* self) { static_cast<BlockPool*>(self)->release(block); };
  mem_.calloc = [](size_t count, size_t size, void* self) -> void* {
    if (size != 0 && count > SIZE_MAX / 2 / size) return nullptr;
    void* block = static_cast<BlockPool*>(self)->allocate(count * size);
    if (block != nullptr) std::memset(block, 0, count * size);
    return block;
  };
  mem_.realloc = [](void* block, size_t size, void* self) {
    return static_cast<BlockPool*>(self)->reallocate(block, size);
  };
}

BlockPool::~BlockPool() {
  for (std::vector<void*>& list : free_) {
    for (void* raw : list) std::free(raw);
  }
}

unsigned BlockPool::classFor(size_t total) {
  for (unsigned cls = 0; cls < kClasses; ++cls) {
    if (total <= classBytes(cls)) return cls;
  }
  return kLarge;
}

void* BlockPool::allocate(size_t size) {
  if (size > SIZE_MAX / 2) return nullptr;
  const unsigned cls = classFor(size + kHeader);
  void* raw = nullptr;
  size_t total = size + kHeader;
  if (cls != kLarge) {
    total = classBytes(cls);
    if (!free_[cls].empty()) {
      raw = free_[cls].back();
      free_[cls].pop_back();
    }
  }
  if (raw == nullptr) raw = std::malloc(total);
  if (raw == nullptr) return nullptr;
  auto* header = static_cast<Header*>(raw);
  header->usable = total - kHeader;
  header->cls = cls;
  return static_cast<char*>(raw) + kHeader;
}

void BlockPool::release(void* block) {
  if (block == nullptr) return;
  Header* header = headerOf(block);
  const unsigned cls = header->cls;
  if (cls != kLarge && free_[cls].size() < keptLimit(cls)) {
    free_[cls].push_back(header);
    return;
  }
  std::free(header);
}

void* BlockPool::reallocate(void* block, size_t size) {
  if (block == nullptr) return allocate(size);
  if (size == 0) {
    release(block);
    return nullptr;
  }
  const size_t usable = headerOf(block)->usable;
  if (size <= usable) return block;
  void* moved = allocate(size);
  if (moved == nullptr) return nullptr;  // the old block stays valid, as with realloc
  std::memcpy(moved, block, usable);
  release(block);
  return moved;
}

size_t BlockPool::kept() const {
  size_t n = 0;
  for (const std::vector<void*>& list : free_) n += list.size();
  return n;
}

}  // namespace ec::h2
