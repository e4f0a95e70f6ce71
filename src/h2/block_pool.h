#pragma once
// BlockPool: the allocator one h2::Session gives nghttp2 (nghttp2_mem). nghttp2 allocates a
// handful of small blocks per stream (the stream, its outbound items, the copied response
// header list) and frees them when the stream closes; a busy connection does this for up to
// 100 streams at a time, which overflows glibc's per-size caches, so each pair became a trip
// through _int_malloc/_int_free. The pool keeps freed blocks in power-of-two size classes
// (64 B to 8 KiB) for the next stream, bounded per class (at most ~0.6 MiB per session, only
// ever as much as the session once used at the same time); larger blocks go to malloc.
// One pool per session, used on the session's thread only.

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstddef>
#include <vector>

namespace ec::h2 {

class BlockPool {
 public:
  BlockPool();
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  void* allocate(size_t size);
  void release(void* block);
  void* reallocate(void* block, size_t size);
  // For nghttp2_session_*_new3: valid while this pool lives.
  nghttp2_mem* mem() { return &mem_; }

  static constexpr size_t kClasses = 8;         // 64 << 0 ... 64 << 7 = 8 KiB
  // Blocks kept per class: enough for the per-stream blocks of 100 concurrent streams in
  // the small classes, at most kKeptBytesPerClass in the large ones.
  static constexpr size_t kKeptBytesPerClass = 64 * 1024;
  static constexpr size_t kKeptSmallBlocks = 160;
  static size_t keptLimit(unsigned cls) {
    const size_t by_bytes = kKeptBytesPerClass / classBytes(cls);
    return by_bytes > kKeptSmallBlocks ? by_bytes : (classBytes(cls) <= 1024 ? kKeptSmallBlocks : by_bytes);
  }
  // Blocks kept now, over all classes (for tests).
  size_t kept() const;

 private:
  static constexpr size_t kHeader = 16;  // keeps the block 16-byte aligned, like malloc
  static constexpr unsigned kLarge = 0xff;
  static unsigned classFor(size_t total);
  static size_t classBytes(unsigned cls) { return size_t{64} << cls; }

  std::array<std::vector<void*>, kClasses> free_;
  nghttp2_mem mem_;
};

}  // namespace ec::h2
