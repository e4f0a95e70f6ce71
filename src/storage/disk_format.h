#pragma once
// disk_format: the bytes of the disk tier (docs/design/disk-store.md). Owns the store-file
// header, the record header every record starts with (magic, version, type, store id, logical
// position, key hash, checksum), the head-record payload (object meta, keys, fragment list) and
// their encoders and strict decoders. Decoders never trust a length: every malformed input is a
// value (nullopt / Error), never a crash; tests/fuzz/disk_record_fuzz.cc holds them to that.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cache/object_meta.h"

namespace ec::storage::disk {

// CRC-32C (Castagnoli), hardware-accelerated where the CPU has SSE4.2.
uint32_t crc32c(uint32_t crc, const void* data, size_t size);

// ---- Store-file header: the first kFileHeaderBytes of every store file. ----
inline constexpr uint64_t kFileMagic = 0x31524f5453434345ull;  // "ECCSTOR1" little-endian
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kFileHeaderBytes = 4096;

struct FileHeader {
  uint32_t version = kFormatVersion;
  uint32_t store_id = 0;        // random at format time; every record carries it
  uint64_t file_bytes = 0;      // size the store was formatted for
  uint64_t segment_bytes = 0;   // reclaim unit
};
void encodeFileHeader(const FileHeader& header, char out[kFileHeaderBytes]);
// nullopt: not an edgecache store file, another version, or a bad checksum (reformat).
std::optional<FileHeader> decodeFileHeader(std::string_view bytes);

// ---- Records. ----
inline constexpr uint32_t kRecordMagic = 0x44524345u;  // "ECRD" little-endian
inline constexpr uint16_t kRecordVersion = 1;
inline constexpr uint64_t kRecordAlign = 16;           // every record starts 16-byte aligned
inline constexpr size_t kRecordHeaderBytes = 40;

enum class RecordType : uint8_t {
  kFragment = 1,   // a run of body bytes
  kHead = 2,       // an object's meta, keys and fragment list; written last (the commit)
  kTombstone = 3,  // an erase (purge, invalidation): replays in log order on rebuild
};

struct RecordHeader {
  RecordType type = RecordType::kFragment;
  uint32_t store_id = 0;
  uint32_t payload_bytes = 0;
  uint64_t logical = 0;   // position of this record in the endless log (physical = % data size)
  uint64_t key = 0;       // primary-key hash (keyHash)
  uint32_t aux = 0;       // head: secondary tag | vary tag << 8; tombstone: see TombstonePayload
  uint32_t crc = 0;       // CRC-32C of the header (crc field zero) and the payload
};

// Total record size on disk, padded to kRecordAlign.
inline uint64_t recordBytes(uint64_t payload_bytes) {
  return (kRecordHeaderBytes + payload_bytes + kRecordAlign - 1) & ~(kRecordAlign - 1);
}

// Writes header + payload + zero padding into `out` (recordBytes(payload.size()) bytes);
// fills in the crc.
void encodeRecord(RecordHeader header, std::string_view payload, char* out);
// Same, with the payload already in place at out + kRecordHeaderBytes.
void sealRecord(RecordHeader header, char* out);
// Parses a header; checks magic, version, type and that the payload fits `available` bytes.
// Does not check the crc (verifyRecord does, over header + payload).
std::optional<RecordHeader> decodeRecordHeader(std::string_view bytes);
bool verifyRecord(const RecordHeader& header, std::string_view record_bytes);
// Same, for a record read in pieces: the 40 header bytes, then the payload in `count` spans
// (a disk hit reads the payload straight into the body's chunks).
bool verifyRecordParts(const RecordHeader& header, const char* header_bytes,
                       const struct iovec* payload, int count);

// ---- Head payload. ----
struct FragmentRef {
  uint64_t logical = 0;   // the fragment record's position
  uint32_t length = 0;    // body bytes in it
};

struct HeadPayload {
  std::string primary;
  std::string secondary;
  cache::ObjectMeta meta;
  uint64_t body_bytes = 0;
  std::vector<FragmentRef> fragments;
};
std::string encodeHead(const HeadPayload& head);
// The fixed fields at the start of a head payload, enough for the index (rebuild reads only
// these after checking the record's crc).
struct HeadSummary {
  uint64_t body_bytes = 0;
  uint64_t first_fragment = UINT64_MAX;  // UINT64_MAX: no fragments (empty body)
};
std::optional<HeadSummary> peekHeadSummary(std::string_view payload);
Result<HeadPayload> decodeHead(std::string_view payload);

// Tombstone payload: the primary key; aux = 1 when only one variant (then the secondary key
// follows after a NUL) else 0 (every variant).
struct TombstonePayload {
  std::string primary;
  std::optional<std::string> secondary;
};
std::string encodeTombstone(const TombstonePayload& tombstone);
Result<TombstonePayload> decodeTombstone(std::string_view payload);

// Hashes used by the index: keyHash is never 0 (0 marks an empty index slot).
uint64_t keyHash(std::string_view primary);
uint8_t tag8(std::string_view text);
uint8_t varyTag(const std::vector<std::string>& vary_names);

}  // namespace ec::storage::disk
