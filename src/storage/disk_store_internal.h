#pragma once
// Shared by the parts of DiskStore (disk_store.cc: opening, rebuild, index, reads;
// disk_store_writer.cc: the writer thread): the object-in-flight record, the lookup
// candidate and the blocking I/O helpers. Not for use outside storage/.

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "storage/disk_store.h"
#include "storage/fault_points.h"

namespace ec::storage {

using disk::FragmentRef;
using disk::HeadPayload;
using disk::IndexEntry;
using disk::RecordHeader;
using disk::RecordType;

inline uint64_t monoMs(const TimeSource& clock) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<Millis>(clock.monoNow().time_since_epoch()).count());
}

// pread of a file that is not the store (no fault point): the checkpoint.
inline bool preadAllPlain(int fd, char* out, uint64_t bytes, uint64_t offset) {
  while (bytes > 0) {
    const ssize_t n = ::pread(fd, out, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    bytes -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

// pread of the store itself, where the read fault point can fail it.
inline bool preadAll(int fd, char* out, uint64_t bytes, uint64_t offset) {
  return !faultFires("edgecache/disk/read") && preadAllPlain(fd, out, bytes, offset);
}

inline bool writeAllPlain(int fd, const char* data, uint64_t bytes) {
  while (bytes > 0) {
    const ssize_t n = ::write(fd, data, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    bytes -= static_cast<uint64_t>(n);
  }
  return true;
}

// Reads into `iov` (modified: consumed as bytes arrive) at `offset`; false on error or EOF.
inline bool preadvAll(int fd, struct iovec* iov, int count, uint64_t offset) {
  if (faultFires("edgecache/disk/read")) return false;
  while (count > 0) {
    const ssize_t n = ::preadv(fd, iov, std::min(count, IOV_MAX), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

inline bool pwriteAll(int fd, const char* data, uint64_t bytes, uint64_t offset) {
  if (faultFires("edgecache/disk/write")) return false;
  while (bytes > 0) {
    const ssize_t n = ::pwrite(fd, data, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    bytes -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

inline std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// An object on its way to the disk: its body is turned into fragment records as it fills, and
// the head record goes last, once the body is complete.
struct DiskStore::Pending {
  std::string primary;
  std::string secondary;
  ObjectRef object;
  uint64_t key = 0;
  uint8_t secondary_tag = 0;
  uint8_t vary_tag = 0;
  uint64_t charged = 0;          // counted in inflight_bytes_
  uint64_t consumed = 0;         // body bytes already in fragment records (writer only)
  std::vector<FragmentRef> fragments;  // writer only
  uint64_t head = 0;             // head record position once appended (writer only)
  uint64_t head_bytes = 0;
  std::atomic<bool> cancelled{false};  // set under mu_; the writer polls it
  std::atomic<uint64_t> first{UINT64_MAX};  // first fragment (or head) position once written
  bool done = false;             // under mu_: published or cancelled, out of pending_
};

// A head or tombstone found by a scan of the log (rebuild), replayed in log order.
struct DiskStore::ScanEvent {
  uint64_t logical;
  RecordType type;
  uint64_t key;
  uint32_t aux;
  uint64_t head_bytes;
  uint64_t first;
  uint64_t body_bytes;
};

struct DiskStore::Scan {
  std::vector<ScanEvent> events;
  uint64_t end = 0;              // logical end of the newest record seen
  uint64_t last = kNone;         // that record's position and crc (the checkpoint sentinel)
  uint32_t last_crc = 0;
  void note(uint64_t logical, uint64_t bytes, uint32_t crc) {
    if (logical + bytes > end) {
      end = logical + bytes;
      last = logical;
      last_crc = crc;
    }
  }
};

struct DiskStore::Candidate {
  IndexEntry entry;
  uint64_t head = 0;
};

}  // namespace ec::storage
