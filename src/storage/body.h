#pragma once
// Body: an append-only response body shared by one writer (the fetch filling it from the
// origin) and many readers on other threads (clients served while it fills: read while write).
// Bytes live in chunks that never move once allocated, so a reader can hand them to writev()
// without a lock for as long as it holds the Body.
//
// Publication protocol (all readers are lock-free):
//   writer: allocate chunk -> record it in the chunk directory -> publish chunk count (release)
//           -> copy bytes -> publish available() (release) -> publish state (release) -> notify
//   reader: available() (acquire) -> chunk count (acquire) -> directory (acquire) -> read
// A directory that fills up is copied into a bigger one; the old one is retired, not freed,
// until the Body dies, so a reader still walking it stays safe (the retired total is < 2x).
//
// Chunks of kMappedChunkMinBytes or more get their own anonymous mapping (mmap/munmap, never
// the malloc heap). Their pages are never reused for other data while anything references
// them, so a reader may hand them to the kernel by reference (vmsplice into a pipe, then splice
// to the socket: no copy, docs/design/large-object-send.md) and the bytes stay valid even if
// the Body dies before the socket has sent them.

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace ec::storage {

// Told about body progress. Called on the WRITER's thread after new bytes, finish() or fail();
// must be cheap and thread-safe (the net layer posts a wake-up to the reader's loop). A reader
// subscribes first and then reads available()/state(), so it cannot miss the last event.
// Do not call subscribe/unsubscribe of another Body from inside onBodyProgress().
class BodyObserver {
 public:
  virtual ~BodyObserver() = default;
  virtual void onBodyProgress() = 0;
};

class Body {
 public:
  enum class State : uint8_t { kFilling, kComplete, kFailed };

  // Largest chunk allocated when the size is unknown; growth doubles up to it.
  static constexpr uint32_t kMaxGrowChunkBytes = 1u << 20;
  static constexpr uint32_t kMinChunkBytes = 4u << 10;
  // Largest chunk allocated up front for a known size (one iovec for most objects, and no
  // multi-GiB allocation on the say-so of a Content-Length).
  static constexpr uint32_t kMaxKnownChunkBytes = 8u << 20;
  // Chunks at least this large are page-mapped (see the header comment).
  static constexpr uint32_t kMappedChunkMinBytes = 64u << 10;

  // expected_size: the body length when known (Content-Length), 0 if unknown.
  // [base, end): the part of the body this Body will ever hold, for a disk hit serving one
  // range (it reads only the fragments the range touches). Bytes below base never exist
  // (peek() there returns 0) and a Body ending before expected_size never completes, so such a
  // partial() Body must only serve a reader wanting bytes inside [base, end); it is never
  // stored or promoted.
  explicit Body(uint64_t expected_size, uint64_t base = 0, uint64_t end = UINT64_MAX);
  ~Body();
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;

  // Writer only.
  void append(std::string_view data);
  // In-place writing (a disk read lands straight in the chunks, no staging copy): fills up to
  // max_iov writable spans for the next `bytes` body bytes, allocating chunks as needed, and
  // returns the number filled (they cover fewer bytes only if max_iov ran out). Nothing is
  // visible to readers until commit(n) publishes the first n reserved bytes.
  int reserve(uint64_t bytes, struct iovec* iov, int max_iov);
  void commit(uint64_t bytes);
  // Zero-copy disk hits (docs/design/disk-store.md "Zero-copy disk hits"): appends `length`
  // bytes that live in a read-only mapping of a store file. With map_bytes != 0 the Body owns
  // and unmaps [map_base, map_base + map_bytes); with 0 the mapping belongs to the store and
  // the guard (setGuard, called first) keeps it alive. The chunk is page-mapped (spliced like
  // memory). Call only with nothing reserved and uncommitted.
  void appendMapping(const char* data, uint32_t length, void* map_base, size_t map_bytes);
  // Guards bytes a store may later overwrite: the Body stays valid() while *floor <=
  // min_position (the store's log has not reclaimed them). Once it is not, state() is kFailed,
  // and a reader that used bytes before seeing that must treat them as garbage: check valid()
  // AFTER handing bytes to the kernel (the store never rewrites them before moving its floor).
  void setGuard(std::shared_ptr<const std::atomic<uint64_t>> floor, uint64_t min_position);
  bool valid() const {
    return guard_floor_ == nullptr ||
           guard_floor_->load(std::memory_order_seq_cst) <= guard_position_;
  }
  bool fileBacked() const { return guard_floor_ != nullptr; }
  void finish();  // complete
  void fail();    // aborted (origin died): readers must close their client connection

  State state() const {
    if (!valid()) return State::kFailed;
    return state_.load(std::memory_order_acquire);
  }
  uint64_t base() const { return base_; }
  uint64_t end() const { return end_; }
  uint64_t expectedSize() const { return expected_size_; }
  bool partial() const { return base_ > 0 || end_ < expected_size_; }
  uint64_t available() const { return available_.load(std::memory_order_acquire); }
  // Fills up to max_iov iovecs with the bytes in [offset, min(offset + max_bytes, available())).
  // Returns the number filled (0 when nothing is readable there yet). Lock-free.
  int peek(uint64_t offset, uint64_t max_bytes, struct iovec* iov, int max_iov) const;
  // As peek(), but only through page-mapped chunks: stops at the first heap chunk, and returns
  // 0 when the byte at `offset` is not in a mapped chunk. What it returns may be vmspliced.
  int peekMapped(uint64_t offset, uint64_t max_bytes, struct iovec* iov, int max_iov) const;

  // Thread-safe. After unsubscribe() returns, the observer is never called again (it may be
  // called from inside onBodyProgress() for the observer itself).
  void subscribe(BodyObserver* observer);
  void unsubscribe(BodyObserver* observer);

  // Memory held (chunk capacity, directories, this object); grows as the body fills.
  size_t chargedBytes() const { return charged_.load(std::memory_order_relaxed); }

 private:
  struct Chunk {
    uint64_t start;  // body offset of data[0]
    const char* data;
    uint32_t capacity;
    bool mapped;  // its own anonymous mapping (may be vmspliced)
  };
  // Owns one chunk's memory: new[] for small chunks, an anonymous mapping for large ones.
  class ChunkMemory {
   public:
    explicit ChunkMemory(uint32_t capacity);
    // Foreign bytes (a store file's mapping): [map_base, map_base + map_bytes) is unmapped
    // here when map_bytes is not 0; otherwise someone else owns them (and keeps them alive).
    ChunkMemory(char* data, void* map_base, size_t map_bytes)
        : data_(data), map_base_(map_base), mapped_bytes_(map_bytes), foreign_(true) {}
    ~ChunkMemory();
    ChunkMemory(ChunkMemory&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)),
          map_base_(other.map_base_),
          mapped_bytes_(other.mapped_bytes_),
          foreign_(other.foreign_) {}
    ChunkMemory& operator=(ChunkMemory&&) = delete;
    char* data() const { return data_; }
    size_t mappedBytes() const { return mapped_bytes_; }  // 0: heap

   private:
    char* data_;
    void* map_base_ = nullptr;  // set for a foreign mapping (data_ lies inside it)
    size_t mapped_bytes_ = 0;
    bool foreign_ = false;
  };
  struct Directory {
    explicit Directory(size_t cap) : chunks(new Chunk[cap]), capacity(cap) {}
    std::unique_ptr<Chunk[]> chunks;
    size_t capacity;
    std::unique_ptr<Directory> retired;  // the directory this one replaced
  };

  void addChunk(uint32_t capacity);
  // Grows the directory when slot `index` is past its end (writer only); returns the bytes the
  // bigger directory adds to the charge, 0 when there was room.
  size_t makeRoomFor(size_t index);
  void enterNextChunk();  // moves writing to the next chunk (allocated if needed)
  const Chunk* chunkAt(uint64_t offset, const Chunk** last) const;
  int fill(const Chunk* chunk, const Chunk* last, uint64_t offset, uint64_t end, bool mapped_only,
           struct iovec* iov, int max_iov) const;
  uint32_t nextChunkCapacity() const;
  void notify();

  const uint64_t expected_size_;
  const uint64_t base_;
  const uint64_t end_;

  // Published to readers.
  std::atomic<uint64_t> available_{0};
  std::atomic<State> state_{State::kFilling};
  std::atomic<size_t> chunk_count_{0};
  std::atomic<Directory*> directory_;
  std::atomic<size_t> charged_;
  std::shared_ptr<const std::atomic<uint64_t>> guard_floor_;  // set before bytes are published
  uint64_t guard_position_ = 0;

  // Writer only.
  std::unique_ptr<Directory> owned_directory_;  // owns directory_ and, through it, retired ones
  std::vector<ChunkMemory> owned_chunks_;
  char* write_ptr_ = nullptr;  // next free byte of the write chunk
  uint32_t write_room_ = 0;    // free bytes left in the write chunk
  size_t entered_chunks_ = 0;  // chunks written into so far (reserve() may allocate beyond)
  uint64_t written_ = 0;
  uint64_t allocated_end_ = 0;  // body offset where the allocated chunks end

  // Observers. Recursive so an observer may unsubscribe itself from inside its callback.
  std::recursive_mutex observers_mu_;
  std::vector<BodyObserver*> observers_;
  bool notifying_ = false;
};

}  // namespace ec::storage
