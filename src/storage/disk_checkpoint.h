#pragma once
// disk_checkpoint: the bytes of a disk store's index checkpoint (docs/design/disk-store.md,
// "Restart"): a header (magic, version, the store's identity and geometry, the log position the
// checkpoint covers, the last record below it as a sentinel, CRC-32C of header and entries)
// followed by the index entries. The decoder checks everything and never trusts a count: a bad,
// truncated or mismatching checkpoint is an Error (the store then scans the whole log), never a
// crash; tests/fuzz/disk_checkpoint_fuzz.cc holds it to that.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "storage/disk_index.h"

namespace ec::storage::disk {

inline constexpr uint64_t kCheckpointMagic = 0x31304b5043434345ull;  // "ECCCPK01" little-endian
inline constexpr uint32_t kCheckpointVersion = 1;
inline constexpr size_t kCheckpointHeaderBytes = 96;
inline constexpr size_t kCheckpointEntryBytes = sizeof(IndexEntry);

// What a checkpoint must agree with to be used: the store it was taken from.
struct CheckpointGeometry {
  uint32_t store_id = 0;
  uint64_t file_bytes = 0;
  uint64_t segment_bytes = 0;
  uint64_t log_start = 0;
  uint64_t data_bytes = 0;
  bool operator==(const CheckpointGeometry&) const = default;
};

struct CheckpointHeader {
  CheckpointGeometry geometry;
  // Log position the entries cover: every record below it is reflected in them; a restart scans
  // the log from here.
  uint64_t covered = 0;
  // The last record below `covered` (its position and CRC), read back at load: if it is not
  // there any more the log has lapped the checkpoint (stale). A checkpoint always has one (an
  // empty log is not checkpointed).
  uint64_t sentinel = kNoSentinel;
  uint32_t sentinel_crc = 0;
  uint64_t count = 0;  // entries that follow

  static constexpr uint64_t kNoSentinel = UINT64_MAX;
};

// Header bytes for `header` followed by `count` entries whose CRC-32C is `entries_crc`.
std::string encodeCheckpointHeader(const CheckpointHeader& header, uint32_t entries_crc);
// CRC-32C over entries as they are written (kCheckpointEntryBytes each).
uint32_t checkpointEntriesCrc(uint32_t crc, const IndexEntry* entries, size_t count);
// The whole file: header + entries.
std::string encodeCheckpoint(const CheckpointHeader& header, const IndexEntry* entries,
                             size_t count);

// Checks a whole checkpoint file image against the store it is meant for. On success the
// entries are at bytes.data() + kCheckpointHeaderBytes (header.count of them, each with a
// non-zero key, a head record of at least one record header, below `covered`).
// Errors name the reason (a metric label and a log line): "truncated", "magic", "version",
// "header checksum", "other store", "geometry", "entries checksum", "entry".
Result<CheckpointHeader> decodeCheckpoint(std::string_view bytes,
                                          const CheckpointGeometry& expected);
// One entry of a decoded image.
IndexEntry checkpointEntry(std::string_view bytes, size_t i);

}  // namespace ec::storage::disk
