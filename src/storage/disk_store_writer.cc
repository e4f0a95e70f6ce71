#include "storage/disk_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "storage/disk_store_internal.h"
#include "storage/fault_points.h"

namespace ec::storage {

// The writer thread of DiskStore: turns objects in flight into records, aggregates them into
// large writes, reclaims and punches segments as the log wraps, publishes what was flushed.

void DiskStore::writerLoop() {
  last_sync_ms_ = monoMs(*options_.clock);
  last_check_ms_ = last_sync_ms_;
  last_checkpoint_ms_ = last_sync_ms_;  // the interval counts from the start
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(wake_mu_);
      bool any_pending;
      {
        std::lock_guard index_lock(mu_);
        any_pending = !pending_.empty() || !tombstones_.empty();
      }
      if (!wake_ && !stopping_) {
        if (any_pending) {
          wake_cv_.wait_for(lock, Millis{10});
        } else {
          wake_cv_.wait_for(lock, Millis{500});
        }
      }
      wake_ = false;
      stopping = stopping_;
    }
    std::vector<std::shared_ptr<Pending>> batch;
    std::vector<std::string> tombstones;
    {
      std::lock_guard lock(mu_);
      batch = pending_;
      tombstones.swap(tombstones_);
    }
    if (!failed_.load()) {
      for (const std::string& tombstone : tombstones) {
        if (tombstone.size() + disk::kRecordHeaderBytes > buffer_bytes_) continue;
        const auto parsed = disk::decodeTombstone(tombstone);
        if (!parsed.ok()) continue;
        const uint32_t aux = parsed.value().secondary
                                 ? 0x100u | disk::tag8(*parsed.value().secondary)
                                 : 0u;
        appendRecord(RecordType::kTombstone, disk::keyHash(parsed.value().primary), aux,
                     tombstone.size(),
                     [&](char* out) { std::memcpy(out, tombstone.data(), tombstone.size()); });
      }
      for (auto& pending : batch) {
        if (failed_.load()) break;
        pump(*pending);
      }
      if (buffer_used_ > 0) flushBuffer();
      publishFlushed();
      const uint64_t now = monoMs(*options_.clock);
      if (now - last_check_ms_ >= 1000) {
        last_check_ms_ = now;
        checkFileStillThere();
      }
      if (dirty_since_sync_ && options_.sync_interval_ms > 0 &&
          (stopping || now - last_sync_ms_ >= options_.sync_interval_ms)) {
        if (faultFires("edgecache/disk/sync") || ::fdatasync(fd_) != 0) {
          markFailed(errnoText("fdatasync"));
        } else {
          metrics_.syncs.fetch_add(1, std::memory_order_relaxed);
        }
        dirty_since_sync_ = false;
        last_sync_ms_ = now;
      }
      if (checkpointDue(now, stopping)) writeCheckpoint(now);
    }
    {
      std::lock_guard lock(wake_mu_);
      ++cycles_;
    }
    idle_cv_.notify_all();
    if (stopping) return;
  }
}

// Turns what the body has into records. Returns true when the object is complete (its head is
// in the buffer) or gone.
bool DiskStore::pump(Pending& pending) {
  {
    std::lock_guard lock(mu_);
    if (pending.done) return true;
    if (pending.cancelled) {
      pending.done = true;
      removePending(&pending);
      return true;
    }
    if (pending.head_bytes != 0) return false;  // head written, waiting to be published
  }
  Body& body = *pending.object->body();
  const Body::State state = body.state();  // before available(): complete means final
  const uint64_t available = body.available();
  auto drop = [&] {
    std::lock_guard lock(mu_);
    cancelPending(pending);
    pending.done = true;
    removePending(&pending);
  };
  if (state == Body::State::kFailed || available > options_.max_object_bytes) {
    drop();  // an object whose fetch failed midway is never kept
    return true;
  }
  const bool complete = state == Body::State::kComplete;
  while ((available - pending.consumed >= fragment_bytes_ ||
          (complete && pending.consumed < available)) &&
         !pending.cancelled.load(std::memory_order_acquire)) {
    const uint64_t n = std::min<uint64_t>(fragment_bytes_, available - pending.consumed);
    const uint64_t from = pending.consumed;
    const uint64_t logical = appendRecord(RecordType::kFragment, pending.key, 0, n, [&](char* out) {
      uint64_t copied = 0;
      while (copied < n) {
        iovec iov[16];
        const int count = body.peek(from + copied, n - copied, iov, 16);
        for (int i = 0; i < count; ++i) {
          std::memcpy(out + copied, iov[i].iov_base, iov[i].iov_len);
          copied += iov[i].iov_len;
        }
        if (count == 0) break;
      }
    });
    if (failed_.load()) return true;
    if (pending.fragments.empty()) pending.first.store(logical, std::memory_order_release);
    pending.fragments.push_back({logical, static_cast<uint32_t>(n)});
    pending.consumed += n;
  }
  if (!complete || pending.cancelled.load()) return false;
  HeadPayload head;
  head.primary = pending.primary;
  head.secondary = pending.secondary;
  head.meta = pending.object->meta();
  head.meta.content_length = static_cast<int64_t>(available);
  head.body_bytes = available;
  head.fragments = pending.fragments;
  const std::string payload = disk::encodeHead(head);
  const uint64_t head_bytes = disk::recordBytes(payload.size());
  if (head_bytes > buffer_bytes_ || head_bytes > IndexEntry::kMaxHeadBytes) {
    metrics_.dropped_writes.fetch_add(1, std::memory_order_relaxed);
    drop();
    return true;
  }
  const uint32_t aux = pending.secondary_tag | (uint32_t{pending.vary_tag} << 8);
  const uint64_t logical = appendRecord(RecordType::kHead, pending.key, aux, payload.size(),
                                        [&](char* out) {
                                          std::memcpy(out, payload.data(), payload.size());
                                        });
  if (failed_.load()) return true;
  if (pending.fragments.empty()) pending.first.store(logical, std::memory_order_release);
  pending.head = logical;
  pending.head_bytes = head_bytes;
  // Find our shared_ptr to queue the publication.
  std::lock_guard lock(mu_);
  for (auto& p : pending_) {
    if (p.get() == &pending) to_publish_.push_back({p, logical + head_bytes});
  }
  return true;
}

uint64_t DiskStore::appendRecord(RecordType type, uint64_t key, uint32_t aux,
                                 uint64_t payload_bytes, const std::function<void(char*)>& fill) {
  const uint64_t bytes = disk::recordBytes(payload_bytes);
  uint64_t position = buffer_logical_ + buffer_used_;
  const uint64_t seg_end = (position / segment_bytes_ + 1) * segment_bytes_;
  // A buffer never spans the end of the log area (one pwrite, one physical range).
  const bool at_wrap = position % data_bytes_ == 0 && buffer_used_ > 0;
  if (position + bytes > seg_end || buffer_used_ + bytes > buffer_bytes_ || at_wrap) {
    if (buffer_used_ > 0) flushBuffer();
    if (failed_.load()) return 0;
    if (position + bytes > seg_end) {
      buffer_logical_ = seg_end;  // the tail of the segment stays unused
      written_.store(seg_end, std::memory_order_release);
    }
    position = buffer_logical_;
  }
  // Entering a segment: what the log held there one lap ago goes.
  const uint64_t target_end = (position / segment_bytes_ + 1) * segment_bytes_;
  if (target_end > data_bytes_) {
    {
      std::lock_guard lock(mu_);
      reclaimUpTo(target_end - data_bytes_);
    }
    // The floor has passed the old lap's bytes: now they may go (before the first write here).
    if (punch_ && target_end > punched_until_) punchSegment(target_end - segment_bytes_);
  }
  char* out = buffer_.get() + buffer_used_;
  fill(out + disk::kRecordHeaderBytes);
  RecordHeader header;
  header.type = type;
  header.store_id = store_id_;
  header.payload_bytes = static_cast<uint32_t>(payload_bytes);
  header.logical = position;
  header.key = key;
  header.aux = aux;
  disk::sealRecord(header, out);
  std::memcpy(&last_record_crc_, out + 36, sizeof last_record_crc_);  // the header's crc field
  last_record_ = position;
  buffer_used_ += bytes;
  return position;
}

// Drops the page-cache pages of a segment about to be rewritten (a zero-copy body's pages
// already in a pipe or socket keep their bytes: they leave the file, they are not overwritten)
// and reserves its blocks again so the rewrite cannot hit ENOSPC. Writer thread, after the
// floor moved past the segment's old lap.
void DiskStore::punchSegment(uint64_t segment_start) {
  punched_until_ = segment_start + segment_bytes_;
  const auto offset = static_cast<off_t>(physical(segment_start));
  const auto length = static_cast<off_t>(segment_bytes_);
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) != 0 ||
      ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, offset, length) != 0) {
    // Bytes still in flight may be rewritten: no safe way on; the node serves without us.
    markFailed(errnoText("punching a segment before its rewrite"));
    return;
  }
  metrics_.punched_segments.fetch_add(1, std::memory_order_relaxed);
}

void DiskStore::flushBuffer() {
  if (buffer_used_ == 0 || failed_.load()) return;
  if (!pwriteAll(fd_, buffer_.get(), buffer_used_, physical(buffer_logical_))) {
    markFailed(errnoText("writing the store"));
    return;
  }
  metrics_.writes.fetch_add(1, std::memory_order_relaxed);
  metrics_.write_bytes.fetch_add(buffer_used_, std::memory_order_relaxed);
  dirty_since_sync_ = true;
  buffer_logical_ += buffer_used_;
  buffer_used_ = 0;
  written_.store(buffer_logical_, std::memory_order_release);
}

void DiskStore::publishFlushed() {
  std::lock_guard lock(mu_);
  const uint64_t floor = floor_->load();
  std::vector<Publish> waiting;
  for (Publish& publish : to_publish_) {
    Pending& pending = *publish.pending;
    if (publish.head_end > buffer_logical_) {
      waiting.push_back(std::move(publish));
      continue;
    }
    const uint64_t first = pending.fragments.empty() ? pending.head : pending.fragments.front().logical;
    const bool keep = !pending.cancelled && !failed_.load() && first >= floor &&
                      pending.head - first <= IndexEntry::kMaxSpanBytes;
    if (keep) {
      const IndexEntry entry =
          IndexEntry::make(pending.key, pending.head, pending.head_bytes, pending.head - first,
                           pending.consumed, pending.secondary_tag, pending.vary_tag);
      index_.insert(entry);
      live_bytes_ += entry.chargedBytes();
      rememberHandle(pending.object, pending.key, pending.head);
    }
    cancelPending(pending);  // out of the in-flight bytes either way
    pending.done = true;
    removePending(&pending);
  }
  to_publish_.swap(waiting);
}

// A checkpoint is written at a clean stop, soon after a start that had none, every half lap of
// the log (so a restart never scans more than about half the log) and every
// cache.disk_checkpoint_interval while the log moves. Writer thread, with the buffer flushed
// and every flushed head published: the index then reflects every record below the write
// position.
bool DiskStore::checkpointDue(uint64_t now_ms, bool stopping) const {
  if (checkpoint_path_.empty() || failed_.load() || last_record_ == kNone || buffer_used_ != 0) {
    return false;
  }
  if (buffer_logical_ == checkpoint_covered_) return false;  // nothing new since the last one
  if (stopping) return true;
  if (now_ms < checkpoint_retry_ms_) return false;
  if (checkpoint_covered_ == kNone) return true;
  if (buffer_logical_ - checkpoint_covered_ >= data_bytes_ / 2) return true;
  return options_.checkpoint_interval_ms > 0 &&
         now_ms - last_checkpoint_ms_ >= options_.checkpoint_interval_ms;
}

// Writes the index to `<checkpoint>.tmp`, syncs it and renames it over the checkpoint (a crash
// leaves the old file or the new one, never a mix). The index is copied a few thousand slots per
// lock hold so event loops never wait for the whole copy; a concurrent erase can make the copy
// miss an entry (that object is a miss after a restart) or hold one twice (dropped at load).
void DiskStore::writeCheckpoint(uint64_t now_ms) {
  last_checkpoint_ms_ = now_ms;
  const uint64_t covered = buffer_logical_;
  // Every record below `covered` reaches the disk before a checkpoint says it is there.
  if (dirty_since_sync_) {
    if (faultFires("edgecache/disk/sync") || ::fdatasync(fd_) != 0) {
      markFailed(errnoText("fdatasync"));
      return;
    }
    metrics_.syncs.fetch_add(1, std::memory_order_relaxed);
    dirty_since_sync_ = false;
    last_sync_ms_ = now_ms;
  }
  std::vector<IndexEntry> entries;
  size_t capacity = 0;
  {
    std::lock_guard lock(mu_);
    entries.reserve(index_.size() + index_.size() / 16 + 64);
    capacity = index_.capacity();  // only this thread inserts (grows) while the store is up
  }
  for (size_t slot = 0; slot < capacity;) {
    std::lock_guard lock(mu_);
    if (failed_.load() || index_.capacity() != capacity) return;
    slot = index_.copySlots(slot, 8192, entries);
  }
  disk::CheckpointHeader header;
  header.geometry = geometry();
  header.covered = covered;
  header.sentinel = last_record_;
  header.sentinel_crc = last_record_crc_;
  header.count = entries.size();
  const std::string head =
      disk::encodeCheckpointHeader(header, disk::checkpointEntriesCrc(0, entries.data(), entries.size()));
  const std::string tmp = checkpoint_path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && writeAllPlain(fd, head.data(), head.size()) &&
            writeAllPlain(fd, reinterpret_cast<const char*>(entries.data()),
                          entries.size() * sizeof(IndexEntry)) &&
            ::fdatasync(fd) == 0;
  int error = ok ? 0 : errno;
  if (fd >= 0) ::close(fd);
  if (ok && ::rename(tmp.c_str(), checkpoint_path_.c_str()) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    errno = error;
    metrics_.checkpoint_write_errors.fetch_add(1, std::memory_order_relaxed);
    EC_LOG_WARN("disk store %s: %s (the next restart scans more of the log)",
                options_.path.c_str(), errnoText(("writing the checkpoint " + checkpoint_path_).c_str()).c_str());
    ::unlink(tmp.c_str());
    checkpoint_retry_ms_ = now_ms + std::max<uint64_t>(options_.checkpoint_interval_ms, 10000);
    return;
  }
  // The rename itself reaches the disk with the directory.
  const size_t slash = checkpoint_path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : checkpoint_path_.substr(0, slash + 1);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  checkpoint_covered_ = covered;
  metrics_.checkpoint_writes.fetch_add(1, std::memory_order_relaxed);
}

void DiskStore::settleForTest() {
  for (int round = 0; round < 2000; ++round) {
    {
      std::lock_guard lock(mu_);
      bool busy = !tombstones_.empty() || !to_publish_.empty();
      for (auto& pending : pending_) {
        const auto state = pending->object->body()->state();
        busy = busy || pending->cancelled || state != Body::State::kFilling;
      }
      if (!busy || failed_.load()) return;
    }
    std::unique_lock lock(wake_mu_);
    const uint64_t target = cycles_ + 2;
    wake_ = true;
    wake_cv_.notify_one();
    idle_cv_.wait_for(lock, Millis{50}, [&] { return cycles_ >= target; });
  }
}

}  // namespace ec::storage
