#pragma once
// DiskStore: the disk tier over one preallocated file or block device, managed as a
// log-structured cyclic store (docs/design/disk-store.md): a writer thread aggregates records
// (body fragments, then the head record that commits the object) into large sequential writes;
// the oldest segment is reclaimed when the log wraps; a compact in-memory index (DiskIndex)
// maps key hashes to head records; every record is checked (magic, version, store id, position,
// CRC-32C) when read, and a bad one is a miss plus a counter. At open the index comes from its
// checkpoint (written by the writer at clean shutdown and periodically) plus a scan of the log
// written after it, or, without a usable checkpoint, from a scan of the whole file. find() blocks on the disk (tests, tools); event loops use findAsync().
// Any I/O error marks the store failed: it then answers nothing and accepts nothing, and the
// node keeps serving from memory and the origin.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/time_source.h"
#include "storage/disk_checkpoint.h"
#include "storage/disk_format.h"
#include "storage/disk_index.h"
#include "storage/io_pool.h"
#include "storage/store.h"

namespace ec::storage {

struct DiskStoreOptions {
  std::string path;
  uint64_t size_bytes = 0;                   // the file is preallocated to this size
  uint64_t max_object_bytes = 1ull << 30;    // larger objects are not stored
  uint64_t segment_bytes = 0;                // 0: size / 16, clamped to [1 MiB, 64 MiB]
  uint64_t average_object_bytes = 32 << 10;  // sizes the index at open (up to 64Ki objects)
  uint64_t write_queue_bytes = 1ull << 30;   // bodies waiting for the writer, at most
  uint64_t sync_interval_ms = 5000;          // fdatasync period while writing (0: never)
  size_t read_threads = 2;
  // Serve disk hits from read-only mappings of the store file (no copy; the log punches a
  // segment before rewriting it). Used only where the file system can punch holes.
  bool zero_copy = true;
  // Index checkpoint file (docs/design/disk-store.md "Restart"). Empty: `<path>.index` for a
  // regular file, none for a block device.
  std::string checkpoint_path;
  uint64_t checkpoint_interval_ms = 60000;   // periodic checkpoint while writing (0: at stop only)
  const TimeSource* clock = nullptr;         // sync interval, rebuild timing (system if null)
};

// Counters and gauges of one store, read by the metrics registry.
struct DiskStoreMetrics {
  std::atomic<uint64_t> reads{0};           // records read
  std::atomic<uint64_t> read_bytes{0};
  std::atomic<uint64_t> writes{0};          // aggregated writes (pwrite calls)
  std::atomic<uint64_t> write_bytes{0};
  std::atomic<uint64_t> errors{0};          // I/O errors (each marks the store failed)
  std::atomic<uint64_t> corrupt{0};         // records failing magic/version/position/checksum
  std::atomic<uint64_t> reclaimed_segments{0};
  std::atomic<uint64_t> dropped_writes{0};  // not stored: queue full, too big, store failed
  std::atomic<uint64_t> lookups_queue_full{0};
  std::atomic<uint64_t> syncs{0};
  std::atomic<uint64_t> rebuild_ms{0};
  std::atomic<uint64_t> rebuild_objects{0};
  std::atomic<uint64_t> range_reads{0};     // hits that read only the fragments a range needs
  std::atomic<uint64_t> mapped_reads{0};    // fragments served from a mapping of the file
  std::atomic<uint64_t> punched_segments{0};
  std::atomic<uint64_t> checkpoint_writes{0};
  std::atomic<uint64_t> checkpoint_write_errors{0};  // could not be written (the store serves on)
  std::atomic<uint64_t> checkpoint_fallbacks{0};     // a checkpoint was there but not usable
  std::atomic<uint64_t> rebuild_scanned_bytes{0};    // log bytes the last start read
  std::atomic<bool> rebuilt_from_checkpoint{false};
};

class DiskStore final : public Store {
 public:
  // Opens (or formats) the store file and rebuilds the index. A store whose file cannot be
  // created, sized or read still returns a DiskStore, marked failed (up() false), with the
  // reason in failureReason(), so the node starts and shows it.
  static std::unique_ptr<DiskStore> open(const DiskStoreOptions& options);
  ~DiskStore() override;  // flushes completed objects, syncs, stops the threads

  ObjectRef find(std::string_view primary, const http::Fields& request) override;
  void insert(std::string_view primary, std::string_view secondary, ObjectRef object) override;
  bool eraseIf(std::string_view primary, std::string_view secondary,
               const CachedObject* object) override;
  size_t eraseAll(std::string_view primary) override;
  void noteGrowth(const CachedObject* object, size_t new_charged_bytes) override;
  Stats stats() const override;

  // Non-blocking lookup for event loops. An object still being written is returned at once.
  // Otherwise, when the index has an entry for `primary`, reads the head record and the first
  // fragment on an I/O thread and calls done(object or nullptr) there; returns nullptr with
  // *pending = true. *pending = false means a miss (done is never called).
  // allow_views: the caller can serve views of the object: when the request asks for one
  // satisfiable range (no If-Range) of a multi-fragment object, only the fragments the range
  // touches are read (the Body is partial(): Body::base()/end(), it must serve only that
  // range); and on a store with zero copy the body may be mapped from the file
  // (Body::fileBacked(): serve it as is, checking Body::valid() after sending, never store it).
  ObjectRef findAsync(std::string_view primary, const http::Fields& request,
                      std::function<void(ObjectRef)> done, bool* pending,
                      bool allow_views = false,
                      std::function<bool(uint64_t)> keep_private = nullptr);
  bool zeroCopy() const { return zero_copy_.load(std::memory_order_relaxed); }

  bool up() const { return !failed_.load(std::memory_order_acquire); }
  std::string failureReason() const;
  const std::string& path() const { return options_.path; }
  uint64_t capacityBytes() const { return data_bytes_; }
  uint64_t maxObjectBytes() const { return options_.max_object_bytes; }
  size_t indexMemoryBytes() const;
  const DiskStoreMetrics& metrics() const { return metrics_; }
  const std::string& checkpointPath() const { return checkpoint_path_; }
  // Why the last start could not use the checkpoint ("" when it did or there was none).
  const std::string& checkpointFallbackReason() const { return checkpoint_fallback_reason_; }

  // Waits until every queued write that can complete has been written and published.
  void settleForTest();
  size_t handleCountForTest() const {
    std::lock_guard lock(mu_);
    return handles_.size();
  }
  // Marks the store failed as an I/O error would (in-code fault point).
  void failForTest(const std::string& reason) { markFailed(reason); }

 private:
  struct Pending;
  struct Candidate;
  struct ScanEvent;
  struct Scan;

  explicit DiskStore(const DiskStoreOptions& options);
  Result<bool> openFile();
  disk::CheckpointGeometry geometry() const {
    return {store_id_, options_.size_bytes, segment_bytes_, log_start_, data_bytes_};
  }
  void rebuild();
  bool loadCheckpoint();
  void fullScan();
  uint64_t walkSegment(const char* seg, uint64_t avail, uint64_t seg_index, uint64_t lap_base,
                       uint64_t from, Scan& scan, uint64_t* need);
  void applyScan(Scan& scan, uint64_t end, std::string_view checkpoint_image,
                 uint64_t checkpoint_count);
  void markFailed(const std::string& reason);
  void checkFileStillThere();

  // Index side (caller holds mu_).
  void reclaimUpTo(uint64_t floor);
  bool makeRoom(uint64_t charge);
  void cancelPending(Pending& pending);
  void removePending(const Pending* pending);
  void rememberHandle(const ObjectRef& object, uint64_t key, uint64_t head);
  void removeReplaced(uint64_t key, uint8_t secondary_tag, uint8_t vary_tag);

  // Writer thread.
  void writerLoop();
  bool pump(Pending& pending);
  uint64_t appendRecord(disk::RecordType type, uint64_t key, uint32_t aux, uint64_t payload_bytes,
                        const std::function<void(char*)>& fill);
  void flushBuffer();
  void publishFlushed();
  bool checkpointDue(uint64_t now_ms, bool stopping) const;
  void writeCheckpoint(uint64_t now_ms);

  // Reads (any thread).
  std::vector<Candidate> candidates(std::string_view primary);
  ObjectRef pendingMatchLocked(std::string_view primary, const http::Fields& request);
  enum class ReadStatus : uint8_t { kOk, kGone, kCorrupt, kIoError, kNotMapped };
  ObjectRef loadObject(std::string_view primary, const http::Fields& request,
                       const std::vector<Candidate>& found, bool rest_async, bool allow_views,
                       const std::function<bool(uint64_t)>* keep_private);
  static std::pair<uint64_t, uint64_t> rangeHint(const http::Fields& request,
                                                 const disk::HeadPayload& head);
  ReadStatus readFragmentInto(Body& body, const disk::FragmentRef& fragment, uint64_t key,
                              bool may_map);
  ReadStatus mapFragment(Body& body, const disk::FragmentRef& fragment, uint64_t key);
  void punchSegment(uint64_t segment_start);
  Result<std::string> readRecord(uint64_t logical, uint64_t bytes, disk::RecordType type,
                                 uint64_t key, disk::RecordHeader* header_out);
  void readRest(std::shared_ptr<Body> body, std::vector<disk::FragmentRef> fragments,
                uint64_t key, size_t from);
  bool stillLive(uint64_t logical) const { return logical >= floor_->load(std::memory_order_acquire); }
  uint64_t physical(uint64_t logical) const {
    return log_start_ + logical % data_bytes_;
  }

  DiskStoreOptions options_;
  int fd_ = -1;
  uint32_t store_id_ = 0;
  static constexpr uint64_t kInitialIndexObjects = 1 << 16;
  static constexpr uint64_t kFolioAlignBytes = 2 << 20;  // largest page-cache folio (x86-64)
  uint64_t log_start_ = disk::kFileHeaderBytes;  // file offset of the log area
  uint64_t data_bytes_ = 0;      // log area: a whole number of segments
  uint64_t segment_bytes_ = 0;
  uint64_t fragment_bytes_ = 0;  // body bytes per fragment record
  uint64_t buffer_bytes_ = 0;    // aggregation buffer

  mutable std::mutex mu_;
  disk::DiskIndex index_;
  std::vector<std::shared_ptr<Pending>> pending_;
  // Objects this store handed out or took in, for eraseIf(): object -> index entry.
  struct Handle {
    std::weak_ptr<CachedObject> object;
    uint64_t key;
    uint64_t head;
  };
  std::unordered_map<const CachedObject*, Handle> handles_;
  size_t handles_swept_at_ = 64;
  std::vector<std::string> tombstones_;  // encoded, waiting for the writer
  // What zero-copy bodies share with the store, and which outlives it while they live: the
  // floor (logical positions below may be overwritten) and a read-only mapping of the file.
  struct View {
    std::atomic<uint64_t> floor{0};
    char* map = nullptr;
    size_t map_bytes = 0;
    ~View();
  };
  std::shared_ptr<View> view_ = std::make_shared<View>();
  std::shared_ptr<std::atomic<uint64_t>> floor_{view_, &view_->floor};
  std::atomic<uint64_t> written_{0};     // logical end of what is on disk (flushed)
  uint64_t live_bytes_ = 0;              // charged bytes of indexed objects
  uint64_t inflight_bytes_ = 0;          // charged bytes of pending writes
  uint64_t evictions_ = 0;
  uint64_t inserts_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  std::string failure_reason_;
  std::atomic<bool> failed_{false};

  // Writer state (writer thread only, except where noted).
  std::unique_ptr<char[]> buffer_;
  uint64_t buffer_logical_ = 0;  // logical position of buffer_[0]
  uint64_t buffer_used_ = 0;
  uint64_t punched_until_ = 0;   // logical end of the last segment punched before its rewrite
  // options_.zero_copy and the file system can punch holes. Once true (set at open), the
  // writer punches every segment before rewriting it, even if reads stop mapping later.
  std::atomic<bool> zero_copy_{false};
  bool punch_ = false;
  struct Publish {
    std::shared_ptr<Pending> pending;
    uint64_t head_end;
  };
  std::vector<Publish> to_publish_;
  uint64_t last_sync_ms_ = 0;
  // Checkpoint (writer thread after open): where it is, the position the file on disk covers
  // (kNone: no usable file), when it was written; the last record written (the sentinel).
  static constexpr uint64_t kNone = UINT64_MAX;
  std::string checkpoint_path_;
  std::string checkpoint_fallback_reason_;
  uint64_t checkpoint_covered_ = kNone;
  uint64_t last_checkpoint_ms_ = 0;
  uint64_t checkpoint_retry_ms_ = 0;  // after a failed write, not before
  uint64_t last_record_ = kNone;
  uint32_t last_record_crc_ = 0;
  uint64_t last_check_ms_ = 0;
  bool dirty_since_sync_ = false;

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;
  bool stopping_ = false;
  std::condition_variable idle_cv_;
  uint64_t cycles_ = 0;

  DiskStoreMetrics metrics_;
  std::unique_ptr<IoPool> readers_;
  std::thread writer_;
};

}  // namespace ec::storage
