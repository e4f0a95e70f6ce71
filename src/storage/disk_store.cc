#include "storage/disk_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "base/log.h"
#include "cache/range.h"
#include "cache/vary.h"
#include "storage/disk_store_internal.h"
#include "storage/fault_points.h"

namespace ec::storage {

std::unique_ptr<DiskStore> DiskStore::open(const DiskStoreOptions& options) {
  std::unique_ptr<DiskStore> store(new DiskStore(options));
  Result<bool> opened = store->openFile();
  if (!opened.ok()) {
    store->markFailed(opened.error().context);
  } else if (opened.value()) {
    store->rebuild();
  } else {
    // Just formatted: a new store id, so nothing in the file can match; no scan (a fresh 2 GB
    // file took 9.5 s to scan for nothing).
    Scan empty;
    store->applyScan(empty, 0, {}, 0);
  }
  store->writer_ = std::thread([s = store.get()] { s->writerLoop(); });
  return store;
}

DiskStore::DiskStore(const DiskStoreOptions& options)
    : options_(options),
      // Sized for a full store of average objects, but no more than kInitialIndexObjects: the
      // table grows by 1.2x from there (or is sized from the checkpoint), so it costs at most
      // 32 bytes per object it holds, whatever the real object sizes are.
      index_(static_cast<size_t>(std::min<uint64_t>(
          options.size_bytes / std::max<uint64_t>(options.average_object_bytes, 512) + 16,
          kInitialIndexObjects))) {
  if (!options_.clock) options_.clock = &SystemTimeSource::instance();
  uint64_t segment = options_.segment_bytes;
  // Stores of 128 MiB or more start their log at 2 MiB and, unless told otherwise, use
  // segments of whole 2 MiB: the page cache holds a file in folios of up to 2 MiB, naturally
  // aligned, and a punched segment must cover whole folios (a folio cut in two by a punch has
  // its part zeroed in place when it cannot be split: bytes in flight would change; see
  // punchSegment). Smaller stores keep the 4 KiB header and serve hits by copy.
  log_start_ = options_.size_bytes >= kFolioAlignBytes * 64 ? kFolioAlignBytes
                                                             : disk::kFileHeaderBytes;
  const uint64_t usable = options_.size_bytes > log_start_ ? options_.size_bytes - log_start_ : 0;
  if (segment == 0) {
    segment = std::clamp<uint64_t>(usable / 16, 1 << 20, 64 << 20);
    if (log_start_ == kFolioAlignBytes) {
      segment = std::max(segment & ~(kFolioAlignBytes - 1), kFolioAlignBytes);
    }
  }
  segment = std::max<uint64_t>(segment & ~uint64_t{4095}, 64 << 10);
  segment_bytes_ = segment;
  data_bytes_ = usable / segment * segment;
  buffer_bytes_ = std::min<uint64_t>(segment_bytes_, 4 << 20);
  fragment_bytes_ = std::min<uint64_t>(1 << 20, segment_bytes_ / 4) - disk::kRecordHeaderBytes;
  buffer_ = std::make_unique<char[]>(buffer_bytes_);
  readers_ = std::make_unique<IoPool>(std::max<size_t>(1, options_.read_threads), 4096);
}

DiskStore::~DiskStore() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  readers_.reset();  // finishes queued reads (they still use fd_)
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> DiskStore::openFile() {
  if (data_bytes_ < 4 * segment_bytes_) {
    return fail(Error::internal(ErrorKind::kInvalidArgument,
                                options_.path + ": store too small (at least 4 segments)"));
  }
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return fail(Error::internal(ErrorKind::kIo, errnoText(options_.path.c_str())));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return fail(Error::internal(ErrorKind::kIo, errnoText("fstat")));
  const bool block_device = S_ISBLK(st.st_mode);
  checkpoint_path_ = !options_.checkpoint_path.empty() ? options_.checkpoint_path
                     : block_device                   ? std::string()
                                                      : options_.path + ".index";
  if (!block_device && static_cast<uint64_t>(st.st_size) < options_.size_bytes) {
    // Preallocate so a full disk shows now (ENOSPC at start), not in the middle of a write.
    const int rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(options_.size_bytes));
    if (rc == EOPNOTSUPP || rc == EINVAL) {
      if (::ftruncate(fd_, static_cast<off_t>(options_.size_bytes)) != 0) {
        return fail(Error::internal(ErrorKind::kIo, errnoText("ftruncate")));
      }
    } else if (rc != 0) {
      errno = rc;
      return fail(Error::internal(ErrorKind::kIo, errnoText("preallocating the store")));
    }
  }
  // Zero-copy hits need the writer to punch a segment before rewriting it (so pages still in
  // flight to a client keep their bytes); probe that the file system can, past the end.
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  zero_copy_ = options_.zero_copy && S_ISREG(st.st_mode) && page <= kFolioAlignBytes &&
               segment_bytes_ % kFolioAlignBytes == 0 && log_start_ % kFolioAlignBytes == 0 &&
               ::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                           static_cast<off_t>(options_.size_bytes), static_cast<off_t>(page)) == 0;
  if (zero_copy_) {
    // One read-only mapping of the whole file for the store's life: a hit costs no mmap.
    void* map = ::mmap(nullptr, static_cast<size_t>(options_.size_bytes), PROT_READ, MAP_SHARED,
                       fd_, 0);
    if (map == MAP_FAILED) {
      zero_copy_ = false;
    } else {
      view_->map = static_cast<char*>(map);
      view_->map_bytes = static_cast<size_t>(options_.size_bytes);
    }
  }
  punch_ = zero_copy_.load();
  char header_bytes[disk::kFileHeaderBytes];
  if (!preadAll(fd_, header_bytes, sizeof header_bytes, 0)) {
    return fail(Error::internal(ErrorKind::kIo, errnoText("reading the store header")));
  }
  const auto header = disk::decodeFileHeader(std::string_view(header_bytes, sizeof header_bytes));
  if (header && header->file_bytes == options_.size_bytes &&
      header->segment_bytes == segment_bytes_) {
    store_id_ = header->store_id;
    return true;
  }
  // New store, another format or another geometry: format (the old records can never match
  // the new store id).
  std::random_device random;
  do {
    store_id_ = random();
  } while (header && store_id_ == header->store_id);
  disk::FileHeader fresh;
  fresh.store_id = store_id_;
  fresh.file_bytes = options_.size_bytes;
  fresh.segment_bytes = segment_bytes_;
  disk::encodeFileHeader(fresh, header_bytes);
  if (!pwriteAll(fd_, header_bytes, sizeof header_bytes, 0) || ::fdatasync(fd_) != 0) {
    return fail(Error::internal(ErrorKind::kIo, errnoText("writing the store header")));
  }
  EC_LOG_INFO("disk store %s formatted: %llu bytes, %llu-byte segments", options_.path.c_str(),
            static_cast<unsigned long long>(data_bytes_),
            static_cast<unsigned long long>(segment_bytes_));
  return false;
}

// The index comes from the checkpoint plus a scan of the log written after it; without a usable
// checkpoint, from a scan of every segment (docs/design/disk-store.md, "Restart").
void DiskStore::rebuild() {
  const uint64_t started = monoMs(*options_.clock);
  const bool from_checkpoint = loadCheckpoint();
  if (!from_checkpoint && !failed_.load()) fullScan();
  if (failed_.load()) return;
  metrics_.rebuilt_from_checkpoint.store(from_checkpoint);
  metrics_.rebuild_objects.store(index_.size());
  metrics_.rebuild_ms.store(monoMs(*options_.clock) - started);
  EC_LOG_INFO("disk store %s: %zu objects indexed in %llu ms (%s, %llu bytes of log read)",
              options_.path.c_str(), index_.size(),
              static_cast<unsigned long long>(metrics_.rebuild_ms.load()),
              from_checkpoint ? "checkpoint + log after it" : "whole log scanned",
              static_cast<unsigned long long>(metrics_.rebuild_scanned_bytes.load()));
}

// Walks the records of one segment (its bytes from the segment start in `seg`, the first
// `avail` of them read) from in-segment offset `from` while they parse, belong to this store
// and lie where their position says: at lap_base + offset, or with lap_base kNone at this
// offset in any lap. Heads and tombstones must pass their CRC (fragments are checked when
// read). Returns where it stopped; *need > 0 when it needs the segment read up to *need.
uint64_t DiskStore::walkSegment(const char* seg, uint64_t avail, uint64_t seg_index,
                                uint64_t lap_base, uint64_t from, Scan& scan, uint64_t* need) {
  *need = 0;
  uint64_t offset = from;
  while (offset + disk::kRecordHeaderBytes <= segment_bytes_) {
    if (offset + disk::kRecordHeaderBytes > avail) {
      *need = offset + disk::kRecordHeaderBytes;
      break;
    }
    const std::string_view rest(seg + offset, segment_bytes_ - offset);
    const auto header = disk::decodeRecordHeader(rest);
    if (!header || header->store_id != store_id_) break;
    const uint64_t bytes = disk::recordBytes(header->payload_bytes);
    if (bytes > rest.size()) break;
    const bool placed = lap_base == kNone
                            ? header->logical % data_bytes_ == seg_index * segment_bytes_ + offset
                            : header->logical == lap_base + offset;
    if (!placed) break;
    if (header->type != RecordType::kFragment) {
      if (offset + bytes > avail) {
        *need = offset + bytes;
        break;
      }
      if (!disk::verifyRecord(*header, rest)) {
        metrics_.corrupt.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      ScanEvent event{header->logical, header->type, header->key, header->aux, bytes, 0, 0};
      if (header->type == RecordType::kHead) {
        const auto summary = disk::peekHeadSummary(
            rest.substr(disk::kRecordHeaderBytes, header->payload_bytes));
        if (!summary) break;
        event.body_bytes = summary->body_bytes;
        event.first = summary->first_fragment == UINT64_MAX ? header->logical
                                                            : summary->first_fragment;
        if (event.first > header->logical) break;
      }
      scan.events.push_back(event);
    }
    scan.note(header->logical, bytes, header->crc);
    offset += bytes;
  }
  return offset;
}

void DiskStore::fullScan() {
  Scan scan;
  std::unique_ptr<char[]> segment(new char[segment_bytes_]);
  const uint64_t segments = data_bytes_ / segment_bytes_;
  for (uint64_t s = 0; s < segments; ++s) {
    if (!preadAll(fd_, segment.get(), segment_bytes_, log_start_ + s * segment_bytes_)) {
      markFailed(errnoText("reading the store"));
      return;
    }
    metrics_.rebuild_scanned_bytes.fetch_add(segment_bytes_, std::memory_order_relaxed);
    uint64_t need = 0;
    walkSegment(segment.get(), segment_bytes_, s, kNone, 0, scan, &need);
  }
  applyScan(scan, scan.end, {}, 0);
}

// Loads the checkpoint, checks that the log has not lapped it (its sentinel record is still in
// place), scans the log written after it and builds the index from both. False (and the whole
// log is scanned) when there is no checkpoint or it cannot be used (counted, logged).
bool DiskStore::loadCheckpoint() {
  if (checkpoint_path_.empty()) return false;
  auto fallback = [&](const std::string& reason) {
    metrics_.checkpoint_fallbacks.fetch_add(1, std::memory_order_relaxed);
    checkpoint_fallback_reason_ = reason;
    EC_LOG_WARN("disk store %s: checkpoint %s not used (%s): scanning the whole store",
                options_.path.c_str(), checkpoint_path_.c_str(), reason.c_str());
    return false;
  };
  const int fd = ::open(checkpoint_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      EC_LOG_INFO("disk store %s: no checkpoint at %s: scanning the whole store",
                  options_.path.c_str(), checkpoint_path_.c_str());
      return false;
    }
    return fallback(errnoText("unreadable"));
  }
  struct stat st {};
  std::string image;
  // At most one entry per smallest record (a head with no body is more than 48 bytes).
  const uint64_t max_bytes = disk::kCheckpointHeaderBytes +
                             (data_bytes_ / 48 + 1) * disk::kCheckpointEntryBytes;
  bool read_ok = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) <= max_bytes;
  if (read_ok) {
    image.resize(static_cast<size_t>(st.st_size));
    read_ok = ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) >= 0 &&
              preadAllPlain(fd, image.data(), image.size(), 0);
  }
  ::close(fd);
  if (!read_ok) return fallback("truncated or unreadable");
  const auto decoded = disk::decodeCheckpoint(image, geometry());
  if (!decoded.ok()) return fallback(decoded.error().context);
  const disk::CheckpointHeader& header = decoded.value();
  // The sentinel (the last record below `covered`) must still be where it was: the writer
  // rewrites the segments after `covered` before it comes round to the sentinel's.
  char sentinel[disk::kRecordHeaderBytes];
  if (!preadAll(fd_, sentinel, sizeof sentinel, physical(header.sentinel))) {
    markFailed(errnoText("reading the store"));
    return true;
  }
  const auto sentinel_header =
      disk::decodeRecordHeader(std::string_view(sentinel, sizeof sentinel));
  if (!sentinel_header || sentinel_header->store_id != store_id_ ||
      sentinel_header->logical != header.sentinel || sentinel_header->crc != header.sentinel_crc) {
    return fallback("stale: the log has lapped it");
  }
  // The log after `covered`: segment by segment, from `covered` on, while each segment holds
  // records of this lap from its start (a segment's tail may be unused: the writer skips to
  // the next segment when a record does not fit).
  Scan scan;
  scan.end = header.covered;
  scan.last = header.sentinel;
  scan.last_crc = header.sentinel_crc;
  std::unique_ptr<char[]> seg(new char[segment_bytes_]);
  for (uint64_t pos = header.covered;;) {
    if (pos - header.covered >= data_bytes_) return fallback("stale: a whole lap after it");
    const uint64_t lap_base = pos / segment_bytes_ * segment_bytes_;
    const uint64_t seg_index = (lap_base % data_bytes_) / segment_bytes_;
    const uint64_t from = pos - lap_base;
    uint64_t avail = from;
    uint64_t at = from;
    uint64_t need = 0;
    uint64_t chunk = 64 << 10;  // the last segment usually ends soon: read it growing, up to 4 MiB
    do {
      const uint64_t want = std::min(segment_bytes_, std::max(need, avail + chunk));
      chunk = std::min<uint64_t>(chunk * 2, 4 << 20);
      if (!preadAll(fd_, seg.get() + avail, want - avail,
                    log_start_ + seg_index * segment_bytes_ + avail)) {
        markFailed(errnoText("reading the store"));
        return true;
      }
      metrics_.rebuild_scanned_bytes.fetch_add(want - avail, std::memory_order_relaxed);
      avail = want;
      at = walkSegment(seg.get(), avail, seg_index, lap_base, at, scan, &need);
    } while (need != 0);
    if (at == 0) break;  // nothing of this lap from the segment's start: the log ends before
    pos = lap_base + segment_bytes_;
  }
  applyScan(scan, std::max(scan.end, header.covered), image, header.count);
  checkpoint_covered_ = header.covered;  // the file stays usable until the log laps it
  return true;
}

// Builds the index: the checkpoint's entries (if any), then the scanned heads and tombstones in
// log order, over the window the writer has not reclaimed (`end` is where it resumes).
void DiskStore::applyScan(Scan& scan, uint64_t end, std::string_view checkpoint_image,
                          uint64_t checkpoint_count) {
  // The writer resumes at `end`; its segment counts as reclaimed (it is being overwritten).
  const uint64_t seg_end = (end / segment_bytes_ + 1) * segment_bytes_;
  const uint64_t floor = seg_end > data_bytes_ ? seg_end - data_bytes_ : 0;
  std::sort(scan.events.begin(), scan.events.end(),
            [](const ScanEvent& a, const ScanEvent& b) { return a.logical < b.logical; });
  std::lock_guard lock(mu_);
  floor_->store(floor);
  written_.store(end);
  buffer_logical_ = end;
  punched_until_ = seg_end;  // the segment the writer resumes in holds live records
  last_record_ = scan.last;
  last_record_crc_ = scan.last_crc;
  if (checkpoint_count > 0) {
    index_.reserve(static_cast<size_t>(checkpoint_count) + scan.events.size());
    for (uint64_t i = 0; i < checkpoint_count; ++i) {
      const IndexEntry entry = disk::checkpointEntry(checkpoint_image, i);
      // Reclaimed after the checkpoint (the log went on past it): gone.
      if (entry.first(end) < floor) continue;
      bool twice = false;  // a piecewise snapshot may hold an entry twice
      index_.forEachWithKey(entry.key, [&](const IndexEntry& e) {
        twice = twice || e.head_word == entry.head_word;
      });
      if (twice) continue;
      index_.insert(entry);
      live_bytes_ += entry.chargedBytes();
    }
  }
  for (const ScanEvent& event : scan.events) {
    if (event.logical < floor) continue;
    if (event.type == RecordType::kTombstone) {
      const bool one = (event.aux & 0x100) != 0;
      const uint8_t tag = static_cast<uint8_t>(event.aux & 0xff);
      index_.removeWithKey(event.key, [&](const IndexEntry& e) {
        if (one && e.secondaryTag() != tag) return false;
        live_bytes_ -= std::min(live_bytes_, e.chargedBytes());
        return true;
      });
      continue;
    }
    if (event.first < floor || event.logical - event.first > IndexEntry::kMaxSpanBytes) continue;
    const uint8_t secondary_tag = static_cast<uint8_t>(event.aux & 0xff);
    const uint8_t vary_tag = static_cast<uint8_t>((event.aux >> 8) & 0xff);
    removeReplaced(event.key, secondary_tag, vary_tag);
    const IndexEntry entry =
        IndexEntry::make(event.key, event.logical, event.head_bytes, event.logical - event.first,
                         event.body_bytes, secondary_tag, vary_tag);
    index_.insert(entry);
    live_bytes_ += entry.chargedBytes();
  }
}

// A store file that was deleted or replaced under us would keep taking writes into an inode
// nobody will read after a restart: that is a failure too (checked once a second).
void DiskStore::checkFileStillThere() {
  if (fd_ < 0 || failed_.load()) return;
  struct stat open_file {};
  struct stat named {};
  if (::fstat(fd_, &open_file) != 0) {
    markFailed(errnoText("fstat of the store file"));
    return;
  }
  if (::stat(options_.path.c_str(), &named) != 0) {
    markFailed(errno == ENOENT ? std::string("store file vanished") : errnoText("stat of the store file"));
    return;
  }
  if (named.st_ino != open_file.st_ino || named.st_dev != open_file.st_dev) {
    markFailed("store file vanished (replaced by another file)");
  }
}

void DiskStore::markFailed(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (failed_.load()) return;
    failure_reason_ = reason;
    failed_.store(true, std::memory_order_release);
    index_.clear();
    live_bytes_ = 0;
    for (auto& pending : pending_) {
      pending->cancelled = true;
      pending->done = true;
    }
    pending_.clear();
    inflight_bytes_ = 0;
    handles_.clear();
  }
  metrics_.errors.fetch_add(1, std::memory_order_relaxed);
  EC_LOG_ERROR("disk store %s failed: %s (serving from memory and the origin)",
             options_.path.c_str(), reason.c_str());
}

std::string DiskStore::failureReason() const {
  std::lock_guard lock(mu_);
  return failure_reason_;
}

size_t DiskStore::indexMemoryBytes() const {
  std::lock_guard lock(mu_);
  return index_.memoryBytes();
}

// ---- index side ----

void DiskStore::reclaimUpTo(uint64_t floor) {
  if (floor <= floor_->load(std::memory_order_relaxed)) return;
  floor_->store(floor, std::memory_order_release);
  metrics_.reclaimed_segments.fetch_add(1, std::memory_order_relaxed);
  const uint64_t near = written_.load(std::memory_order_acquire);
  const size_t removed = index_.removeAllIf(
      [&](const IndexEntry& e) { return e.first(near) < floor; },
      [&](const IndexEntry& e) { live_bytes_ -= std::min(live_bytes_, e.chargedBytes()); });
  evictions_ += removed;
  // Writes in progress that started below the floor can never be valid.
  for (auto& pending : pending_) {
    if (!pending->cancelled && pending->first.load(std::memory_order_acquire) < floor) {
      cancelPending(*pending);
      ++evictions_;
    }
  }
}

bool DiskStore::makeRoom(uint64_t charge) {
  if (charge > data_bytes_) return false;
  while (live_bytes_ + inflight_bytes_ + charge > data_bytes_) {
    // Reclaim ahead of the writer, one segment at a time, up to what has been written.
    const uint64_t floor = floor_->load(std::memory_order_relaxed);
    const uint64_t next = (floor / segment_bytes_ + 1) * segment_bytes_;
    const uint64_t written = written_.load(std::memory_order_acquire);
    if (live_bytes_ == 0 || floor >= written) return false;
    reclaimUpTo(std::min(next, written));
  }
  return true;
}

void DiskStore::removePending(const Pending* pending) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const auto& p) { return p.get() == pending; });
  if (it != pending_.end()) pending_.erase(it);
}

// Objects handed out are remembered (weakly) for eraseIf(); forgotten ones are swept whenever
// the map doubles, so a read-only workload cannot grow it without bound.
void DiskStore::rememberHandle(const ObjectRef& object, uint64_t key, uint64_t head) {
  handles_[object.get()] = Handle{object, key, head};
  if (handles_.size() > 2 * handles_swept_at_) {
    std::erase_if(handles_, [](const auto& item) { return item.second.object.expired(); });
    handles_swept_at_ = std::max<size_t>(64, handles_.size());
  }
}

void DiskStore::cancelPending(Pending& pending) {
  if (pending.cancelled) return;
  pending.cancelled = true;
  inflight_bytes_ -= std::min(inflight_bytes_, pending.charged);
}

void DiskStore::removeReplaced(uint64_t key, uint8_t secondary_tag, uint8_t vary_tag) {
  index_.removeWithKey(key, [&](const IndexEntry& e) {
    if (e.varyTag() == vary_tag && e.secondaryTag() != secondary_tag) return false;
    live_bytes_ -= std::min(live_bytes_, e.chargedBytes());
    return true;
  });
}

// ---- Store ----

void DiskStore::insert(std::string_view primary, std::string_view secondary, ObjectRef object) {
  const cache::ObjectMeta& meta = object->meta();
  const uint64_t key = disk::keyHash(primary);
  const uint8_t secondary_tag = disk::tag8(secondary);
  const uint8_t vary_tag = disk::varyTag(meta.vary_names);
  const uint64_t expected =
      meta.content_length >= 0 ? static_cast<uint64_t>(meta.content_length) : 0;
  const uint64_t charge = object->chargedBytes();
  auto pending = std::make_shared<Pending>();
  {
    std::lock_guard lock(mu_);
    // The variant this replaces (and variants under other Vary names) are outdated either way.
    removeReplaced(key, secondary_tag, vary_tag);
    for (auto& other : pending_) {
      if (other->key == key && other->primary == primary &&
          (other->vary_tag != vary_tag || other->secondary == secondary)) {
        cancelPending(*other);
      }
    }
    const bool refused = failed_.load() || expected > options_.max_object_bytes ||
                         charge > options_.max_object_bytes + (1 << 20) ||
                         inflight_bytes_ + std::max(expected, charge) > options_.write_queue_bytes ||
                         !makeRoom(charge);
    if (refused) {
      metrics_.dropped_writes.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    pending->primary = std::string(primary);
    pending->secondary = std::string(secondary);
    pending->object = std::move(object);
    pending->key = key;
    pending->secondary_tag = secondary_tag;
    pending->vary_tag = vary_tag;
    pending->charged = charge;
    inflight_bytes_ += charge;
    ++inserts_;
    pending_.push_back(pending);
  }
  {
    std::lock_guard lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_one();
}

void DiskStore::noteGrowth(const CachedObject* object, size_t new_charged_bytes) {
  std::lock_guard lock(mu_);
  for (auto& pending : pending_) {
    if (pending->object.get() != object || pending->cancelled) continue;
    inflight_bytes_ -= std::min(inflight_bytes_, pending->charged);
    pending->charged = new_charged_bytes;
    inflight_bytes_ += new_charged_bytes;
    if (new_charged_bytes > options_.max_object_bytes + (1 << 20) ||
        object->body()->available() > options_.max_object_bytes || !makeRoom(0)) {
      cancelPending(*pending);
      metrics_.dropped_writes.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
}

bool DiskStore::eraseIf(std::string_view primary, std::string_view secondary,
                        const CachedObject* object) {
  std::lock_guard lock(mu_);
  bool erased = false;
  for (auto& pending : pending_) {
    if (pending->object.get() == object && !pending->cancelled && pending->primary == primary &&
        pending->secondary == secondary) {
      cancelPending(*pending);
      erased = true;
    }
  }
  if (!erased) {
    auto it = handles_.find(object);
    if (it != handles_.end() && it->second.object.lock().get() == object) {
      const uint64_t near = written_.load(std::memory_order_acquire);
      const uint64_t head = it->second.head;
      const uint8_t tag = disk::tag8(secondary);
      erased = index_.removeWithKey(it->second.key, [&](const IndexEntry& e) {
        if (e.head(near) != head || e.secondaryTag() != tag) return false;
        live_bytes_ -= std::min(live_bytes_, e.chargedBytes());
        return true;
      }) > 0;
      if (erased) handles_.erase(it);
    }
  }
  if (erased) {
    disk::TombstonePayload tombstone{std::string(primary), std::string(secondary)};
    tombstones_.push_back(disk::encodeTombstone(tombstone));
  }
  return erased;
}

size_t DiskStore::eraseAll(std::string_view primary) {
  const uint64_t key = disk::keyHash(primary);
  size_t removed = 0;
  {
    std::lock_guard lock(mu_);
    for (auto& pending : pending_) {
      if (pending->key == key && pending->primary == primary && !pending->cancelled) {
        cancelPending(*pending);
        ++removed;
      }
    }
    removed += index_.removeWithKey(key, [&](const IndexEntry& e) {
      live_bytes_ -= std::min(live_bytes_, e.chargedBytes());
      return true;
    });
    // Always logged: a head already in the write buffer must not come back after a restart.
    if (!failed_.load()) {
      tombstones_.push_back(disk::encodeTombstone({std::string(primary), std::nullopt}));
    }
  }
  {
    std::lock_guard lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_one();
  return removed;
}

Store::Stats DiskStore::stats() const {
  std::lock_guard lock(mu_);
  Stats stats;
  stats.bytes = live_bytes_ + inflight_bytes_;
  size_t pending = 0;
  for (const auto& p : pending_) pending += !p->cancelled;
  stats.objects = index_.size() + pending;
  stats.evictions = evictions_;
  stats.inserts = inserts_;
  stats.hits = hits_;
  stats.misses = misses_;
  return stats;
}

// ---- reads ----

std::vector<DiskStore::Candidate> DiskStore::candidates(std::string_view primary) {
  std::vector<Candidate> found;
  const uint64_t key = disk::keyHash(primary);
  const uint64_t near = written_.load(std::memory_order_acquire);
  index_.forEachWithKey(key, [&](const IndexEntry& e) { found.push_back({e, e.head(near)}); });
  // Newest first: on a tag collision the latest write wins.
  std::sort(found.begin(), found.end(),
            [](const Candidate& a, const Candidate& b) { return a.head > b.head; });
  return found;
}

Result<std::string> DiskStore::readRecord(uint64_t logical, uint64_t bytes, RecordType type,
                                          uint64_t key, RecordHeader* header_out) {
  std::string record(bytes, '\0');
  if (!stillLive(logical)) return fail(Error::internal(ErrorKind::kNotFound, "reclaimed"));
  if (!preadAll(fd_, record.data(), bytes, physical(logical))) {
    const std::string reason = errnoText("reading a record");
    markFailed(reason);
    return fail(Error::internal(ErrorKind::kIo, reason));
  }
  metrics_.reads.fetch_add(1, std::memory_order_relaxed);
  metrics_.read_bytes.fetch_add(bytes, std::memory_order_relaxed);
  // Overwritten while we read it: an eviction, not corruption.
  if (!stillLive(logical)) return fail(Error::internal(ErrorKind::kNotFound, "reclaimed"));
  const auto header = disk::decodeRecordHeader(record);
  if (!header || header->store_id != store_id_ || header->logical != logical ||
      header->type != type || header->key != key ||
      disk::recordBytes(header->payload_bytes) != bytes || !disk::verifyRecord(*header, record)) {
    metrics_.corrupt.fetch_add(1, std::memory_order_relaxed);
    return fail(Error::internal(ErrorKind::kParse, "corrupt record"));
  }
  if (header_out) *header_out = *header;
  return record;
}

ObjectRef DiskStore::loadObject(std::string_view primary, const http::Fields& request,
                                const std::vector<Candidate>& found, bool rest_async,
                                bool allow_views,
                                const std::function<bool(uint64_t)>* keep_private) {
  for (const Candidate& candidate : found) {
    RecordHeader header;
    Result<std::string> record = readRecord(candidate.head, candidate.entry.headBytes(),
                                            RecordType::kHead, candidate.entry.key, &header);
    if (!record.ok()) {
      if (record.error().kind == ErrorKind::kParse) {
        // Corrupt: drop the entry so the next request goes to the origin without a read.
        std::lock_guard lock(mu_);
        const uint64_t near = written_.load(std::memory_order_acquire);
        index_.removeWithKey(candidate.entry.key, [&](const IndexEntry& e) {
          if (e.head(near) != candidate.head) return false;
          live_bytes_ -= std::min(live_bytes_, e.chargedBytes());
          return true;
        });
      }
      continue;
    }
    Result<HeadPayload> decoded = disk::decodeHead(
        std::string_view(record.value()).substr(disk::kRecordHeaderBytes, header.payload_bytes));
    if (!decoded.ok()) {
      metrics_.corrupt.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    HeadPayload& head = decoded.value();
    if (head.primary != primary) continue;  // another key with the same hash
    const auto secondary = cache::secondaryKey(head.meta.vary_names, request);
    if (!secondary || *secondary != head.secondary) continue;
    bool all_live = true;
    for (const FragmentRef& f : head.fragments) all_live = all_live && stillLive(f.logical);
    if (!all_live) continue;
    // Which fragments to read: all, or for a single satisfiable range only those it touches
    // (the Body then holds [base, end) and is never stored; see Body::base()).
    size_t first_fragment = 0;
    size_t end_fragment = head.fragments.size();
    uint64_t base = 0;
    uint64_t end = head.body_bytes;
    if (allow_views) {
      if (const auto range = rangeHint(request, head); range.first < range.second) {
        uint64_t offset = 0;
        for (size_t i = 0; i < head.fragments.size(); ++i) {
          const uint64_t fragment_end = offset + head.fragments[i].length;
          if (fragment_end <= range.first) first_fragment = i + 1, base = fragment_end;
          if (offset >= range.second) {
            end_fragment = i;
            end = offset;
            break;
          }
          offset = fragment_end;
        }
      }
    }
    auto body = std::make_shared<Body>(head.body_bytes, base, end);
    // Zero copy unless the caller wants this object in memory (a private copy it can keep).
    const bool whole = base == 0 && end == head.body_bytes;
    auto admission = CachedObject::Admission::kUndecided;
    if (whole && keep_private != nullptr && *keep_private) {
      admission = (*keep_private)(head.body_bytes) ? CachedObject::Admission::kAdmit
                                                   : CachedObject::Admission::kReject;
    }
    const bool may_map = allow_views && zero_copy_.load(std::memory_order_relaxed) &&
                         admission != CachedObject::Admission::kAdmit;
    if (first_fragment < end_fragment) {
      const ReadStatus status = readFragmentInto(*body, head.fragments[first_fragment],
                                                 candidate.entry.key, may_map);
      if (status != ReadStatus::kOk) continue;  // counted; a miss
    }
    auto object = std::make_shared<CachedObject>(std::move(head.meta), body);
    object->setAdmission(admission);
    {
      std::lock_guard lock(mu_);
      rememberHandle(object, candidate.entry.key, candidate.head);
      ++hits_;
    }
    if (body->partial()) metrics_.range_reads.fetch_add(1, std::memory_order_relaxed);
    if (first_fragment + 1 >= end_fragment) {
      if (end == head.body_bytes) body->finish();  // a partial Body ending early stays open
    } else {
      head.fragments.resize(end_fragment);
      if (rest_async) {
        auto fragments = std::make_shared<std::vector<FragmentRef>>(std::move(head.fragments));
        const uint64_t key = candidate.entry.key;
        const size_t from = first_fragment + 1;
        if (!readers_->submit(
                [this, body, fragments, key, from] { readRest(body, *fragments, key, from); })) {
          body->fail();
        }
      } else {
        readRest(body, std::move(head.fragments), candidate.entry.key, first_fragment + 1);
      }
    }
    return object;
  }
  std::lock_guard lock(mu_);
  ++misses_;
  return nullptr;
}

// The byte range [first, end) a request needs from `head`'s body when it asks for one
// satisfiable range of a 200 response without If-Range; {0, 0} otherwise (read everything).
std::pair<uint64_t, uint64_t> DiskStore::rangeHint(const http::Fields& request,
                                                   const disk::HeadPayload& head) {
  const std::optional<std::string_view> range = request.get("range");
  if (!range || request.get("if-range") || head.meta.status != 200 ||
      head.meta.content_length != static_cast<int64_t>(head.body_bytes) || head.body_bytes == 0) {
    return {0, 0};
  }
  const cache::RangePlan plan = cache::planRanges(*range, head.body_bytes, 1);
  if (plan.kind != cache::RangePlan::kSingle) return {0, 0};
  return {plan.ranges.front().first, plan.ranges.front().last + 1};
}

// Reads one fragment record straight into the body's chunks (no staging buffer, no copy but
// the kernel's), checks it, and only then publishes its bytes.
DiskStore::ReadStatus DiskStore::readFragmentInto(Body& body, const FragmentRef& fragment,
                                                  uint64_t key, bool may_map) {
  constexpr int kMaxSpans = 8;
  if (!stillLive(fragment.logical)) return ReadStatus::kGone;
  if (may_map && zero_copy_.load(std::memory_order_relaxed) &&
      fragment.length >= Body::kMappedChunkMinBytes) {
    const ReadStatus mapped = mapFragment(body, fragment, key);
    if (mapped != ReadStatus::kNotMapped) return mapped;
  }
  char header_bytes[disk::kRecordHeaderBytes];
  struct iovec iov[kMaxSpans + 1];
  iov[0] = {header_bytes, sizeof header_bytes};
  const int spans = body.reserve(fragment.length, iov + 1, kMaxSpans);
  uint64_t covered = 0;
  for (int i = 1; i <= spans; ++i) covered += iov[i].iov_len;
  if (covered != fragment.length) return ReadStatus::kCorrupt;  // cannot happen: 8 MiB chunks
  const uint64_t bytes = disk::kRecordHeaderBytes + fragment.length;
  if (!preadvAll(fd_, iov, spans + 1, physical(fragment.logical))) {
    markFailed(errnoText("reading a record"));
    return ReadStatus::kIoError;
  }
  iov[0] = {header_bytes, sizeof header_bytes};  // preadvAll consumed the iovecs
  body.reserve(fragment.length, iov + 1, kMaxSpans);
  metrics_.reads.fetch_add(1, std::memory_order_relaxed);
  metrics_.read_bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (!stillLive(fragment.logical)) return ReadStatus::kGone;  // overwritten while read
  const auto header = disk::decodeRecordHeader(std::string_view(header_bytes, sizeof header_bytes));
  if (!header || header->store_id != store_id_ || header->logical != fragment.logical ||
      header->type != RecordType::kFragment || header->key != key ||
      header->payload_bytes != fragment.length ||
      !disk::verifyRecordParts(*header, header_bytes, iov + 1, spans)) {
    metrics_.corrupt.fetch_add(1, std::memory_order_relaxed);
    return ReadStatus::kCorrupt;
  }
  body.commit(fragment.length);
  return ReadStatus::kOk;
}

// Zero copy: maps the fragment record read-only from the store file, checks it there (the
// CRC reads the page cache in place) and appends the payload to the body as a mapped chunk,
// which the send path splices to the socket. The body's guard (the store floor) makes any
// reader that finds the floor moved past this fragment drop the connection; the writer punches
// a segment out of the file before rewriting it, so pages already handed to the kernel keep
// their bytes (docs/design/disk-store.md "Zero-copy disk hits").
DiskStore::ReadStatus DiskStore::mapFragment(Body& body, const FragmentRef& fragment,
                                             uint64_t key) {
#ifndef MADV_POPULATE_READ
  constexpr int MADV_POPULATE_READ = 22;  // Linux 5.14
#endif
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t record = physical(fragment.logical);
  const uint64_t first_page = record & ~(page - 1);
  const uint64_t end_page =
      (record + disk::kRecordHeaderBytes + fragment.length + page - 1) & ~(page - 1);
  // Fault the pages in now, on this thread, where a read error is an error and not a SIGBUS.
  if (faultFires("edgecache/disk/read") ||
      ::madvise(view_->map + first_page, static_cast<size_t>(end_page - first_page),
                MADV_POPULATE_READ) != 0) {
    if (errno == EINVAL) {
      zero_copy_.store(false);  // the kernel cannot populate: copy from now on
      return ReadStatus::kNotMapped;
    }
    markFailed(errnoText("reading a record"));
    return ReadStatus::kIoError;
  }
  const char* bytes = view_->map + record;
  metrics_.reads.fetch_add(1, std::memory_order_relaxed);
  metrics_.read_bytes.fetch_add(disk::kRecordHeaderBytes + fragment.length,
                                std::memory_order_relaxed);
  const auto header = disk::decodeRecordHeader(std::string_view(bytes, disk::kRecordHeaderBytes));
  struct iovec payload = {const_cast<char*>(bytes + disk::kRecordHeaderBytes), fragment.length};
  const bool good = header && header->store_id == store_id_ &&
                    header->logical == fragment.logical &&
                    header->type == RecordType::kFragment && header->key == key &&
                    header->payload_bytes == fragment.length &&
                    disk::verifyRecordParts(*header, bytes, &payload, 1);
  // Checked, and still live after the check: the floor had not passed it while we read, so the
  // writer had not touched it (it moves the floor first). The fence orders our reads of the
  // bytes before the read of the floor.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!stillLive(fragment.logical)) return ReadStatus::kGone;
  if (!good) {
    metrics_.corrupt.fetch_add(1, std::memory_order_relaxed);
    return ReadStatus::kCorrupt;
  }
  body.setGuard(floor_, fragment.logical);  // also keeps view_ (the mapping) alive
  body.appendMapping(bytes + disk::kRecordHeaderBytes, fragment.length, nullptr, 0);
  metrics_.mapped_reads.fetch_add(1, std::memory_order_relaxed);
  return ReadStatus::kOk;
}

DiskStore::View::~View() {
  if (map != nullptr) ::munmap(map, map_bytes);
}

void DiskStore::readRest(std::shared_ptr<Body> body, std::vector<FragmentRef> fragments,
                         uint64_t key, size_t from) {
  for (size_t i = from; i < fragments.size(); ++i) {
    // Later fragments map only into a body already guarded (its guard was set before anyone
    // could read it).
    if (readFragmentInto(*body, fragments[i], key, body->fileBacked()) != ReadStatus::kOk) {
      body->fail();  // the reader closes its connection: a truncated body never looks complete
      return;
    }
  }
  if (body->available() == body->expectedSize()) body->finish();  // a partial one stays open
}

ObjectRef DiskStore::find(std::string_view primary, const http::Fields& request) {
  std::vector<Candidate> found;
  {
    std::lock_guard lock(mu_);
    if (failed_.load()) {
      ++misses_;
      return nullptr;
    }
    if (ObjectRef writing = pendingMatchLocked(primary, request)) return writing;
    found = candidates(primary);
    if (found.empty()) {
      ++misses_;
      return nullptr;
    }
  }
  return loadObject(primary, request, found, false, false, nullptr);
}

// Under mu_: the variant of `primary` matching `request` among objects still being written
// (served while they fill, as from memory), counted as a hit.
ObjectRef DiskStore::pendingMatchLocked(std::string_view primary, const http::Fields& request) {
  const uint64_t key = disk::keyHash(primary);
  for (auto& pending : pending_) {
    if (pending->key != key || pending->cancelled || pending->primary != primary) continue;
    const auto secondary = cache::secondaryKey(pending->object->meta().vary_names, request);
    if (secondary && *secondary == pending->secondary) {
      ++hits_;
      return pending->object;
    }
  }
  return nullptr;
}

ObjectRef DiskStore::findAsync(std::string_view primary, const http::Fields& request,
                               std::function<void(ObjectRef)> done, bool* pending_out,
                               bool allow_views,
                               std::function<bool(uint64_t)> keep_private) {
  *pending_out = false;
  std::vector<Candidate> found;
  {
    std::lock_guard lock(mu_);
    if (failed_.load()) return nullptr;
    if (ObjectRef writing = pendingMatchLocked(primary, request)) return writing;
    found = candidates(primary);
    if (found.empty()) {
      ++misses_;
      return nullptr;
    }
  }
  // The request's fields live in the caller's buffer: the I/O thread gets its own copy.
  auto fields = std::make_shared<http::Fields>();
  fields->reserve(request.size());
  for (const http::Field& field : request.all()) fields->addOwned(field.name, field.value);
  const bool queued = readers_->submit(
      [this, primary = std::string(primary), fields, found = std::move(found),
       done = std::move(done), allow_views, keep_private = std::move(keep_private)] { done(loadObject(primary, *fields, found, true, allow_views, &keep_private));
      });
  if (!queued) {
    metrics_.lookups_queue_full.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  *pending_out = true;
  return nullptr;
}

}  // namespace ec::storage
