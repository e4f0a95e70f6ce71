// BlockPool: nghttp2's per-session allocator (h2perf). Blocks are reused by size class, keep
// malloc's alignment, survive realloc with their contents, and what is kept stays bounded.
#include "h2/block_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

namespace ec::h2 {
namespace {

TEST(BlockPoolTest, FreedBlocksAreReusedBySizeClass) {
  BlockPool pool;
  void* a = pool.allocate(100);
  ASSERT_NE(a, nullptr);
  pool.release(a);
  EXPECT_EQ(pool.kept(), 1u);
  void* b = pool.allocate(90);  // the same class (128 bytes with the header)
  EXPECT_EQ(a, b);
  EXPECT_EQ(pool.kept(), 0u);
  void* c = pool.allocate(1000);  // another class: a new block
  EXPECT_NE(c, b);
  pool.release(b);
  pool.release(c);
  EXPECT_EQ(pool.kept(), 2u);
}

TEST(BlockPoolTest, BlocksAreAlignedAndLargeOnesBypassThePool) {
  BlockPool pool;
  std::vector<void*> blocks;
  for (size_t size : {1u, 7u, 48u, 49u, 500u, 4000u, 8176u, 8177u, 100000u}) {
    void* block = pool.allocate(size);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 16, 0u) << size;
    std::memset(block, 0xab, size);  // ASan checks the whole block is ours
    blocks.push_back(block);
  }
  for (void* block : blocks) pool.release(block);
  EXPECT_EQ(pool.kept(), 7u);  // 8177 and 100000 bytes went back to malloc
}

TEST(BlockPoolTest, ReallocKeepsContentsAndCallocZeroes) {
  BlockPool pool;
  nghttp2_mem* mem = pool.mem();
  auto* text = static_cast<char*>(mem->malloc(10, mem->mem_user_data));
  std::memcpy(text, "0123456789", 10);
  text = static_cast<char*>(mem->realloc(text, 40, mem->mem_user_data));  // same 64-byte class
  EXPECT_EQ(std::memcmp(text, "0123456789", 10), 0);
  text = static_cast<char*>(mem->realloc(text, 5000, mem->mem_user_data));  // moves
  EXPECT_EQ(std::memcmp(text, "0123456789", 10), 0);
  mem->free(text, mem->mem_user_data);
  auto* zeros = static_cast<unsigned char*>(mem->calloc(30, 4, mem->mem_user_data));
  for (int i = 0; i < 120; ++i) ASSERT_EQ(zeros[i], 0) << i;
  mem->free(zeros, mem->mem_user_data);
  EXPECT_EQ(mem->calloc(SIZE_MAX / 4, 8, mem->mem_user_data), nullptr);  // overflow refused
  mem->free(nullptr, mem->mem_user_data);
  void* empty = mem->realloc(nullptr, 0, mem->mem_user_data);  // like malloc(0)
  EXPECT_NE(empty, nullptr);
  mem->free(empty, mem->mem_user_data);
}

TEST(BlockPoolTest, KeptBlocksAreBoundedPerClass) {
  BlockPool pool;
  std::vector<void*> blocks;
  for (int i = 0; i < 5000; ++i) blocks.push_back(pool.allocate(100));
  std::set<void*> distinct(blocks.begin(), blocks.end());
  EXPECT_EQ(distinct.size(), blocks.size());
  for (void* block : blocks) pool.release(block);
  EXPECT_EQ(pool.kept(), BlockPool::kKeptBytesPerClass / 128);
}

}  // namespace
}  // namespace ec::h2
