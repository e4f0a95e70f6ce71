#include "storage/disk_checkpoint.h"

#include <bit>
#include <cstddef>
#include <cstring>

#include "storage/disk_format.h"

namespace ec::storage::disk {
namespace {

static_assert(std::endian::native == std::endian::little,
              "checkpoint entries are written as the host lays them out (little-endian)");
static_assert(sizeof(IndexEntry) == 24 && offsetof(IndexEntry, head_word) == 8 &&
                  offsetof(IndexEntry, span_word) == 16 && offsetof(IndexEntry, size_word) == 20,
              "the checkpoint stores index entries as they are in memory");

void put64(char* out, uint64_t v) { std::memcpy(out, &v, 8); }
void put32(char* out, uint32_t v) { std::memcpy(out, &v, 4); }
uint64_t get64(const char* in) {
  uint64_t v;
  std::memcpy(&v, in, 8);
  return v;
}
uint32_t get32(const char* in) {
  uint32_t v;
  std::memcpy(&v, in, 4);
  return v;
}

Failure bad(const char* reason) {
  return fail(Error::internal(ErrorKind::kParse, reason));
}

}  // namespace

// Layout (little-endian): magic 8 | version 4 | store id 4 | file bytes 8 | segment bytes 8 |
// log start 8 | log bytes 8 | covered 8 | sentinel 8 | sentinel crc 4 | entries crc 4 |
// count 8 | reserved 12 (zero) | header crc 4 (over the 92 bytes before it).
std::string encodeCheckpointHeader(const CheckpointHeader& header, uint32_t entries_crc) {
  std::string out(kCheckpointHeaderBytes, '\0');
  char* p = out.data();
  put64(p + 0, kCheckpointMagic);
  put32(p + 8, kCheckpointVersion);
  put32(p + 12, header.geometry.store_id);
  put64(p + 16, header.geometry.file_bytes);
  put64(p + 24, header.geometry.segment_bytes);
  put64(p + 32, header.geometry.log_start);
  put64(p + 40, header.geometry.data_bytes);
  put64(p + 48, header.covered);
  put64(p + 56, header.sentinel);
  put32(p + 64, header.sentinel_crc);
  put32(p + 68, entries_crc);
  put64(p + 72, header.count);
  put32(p + 92, crc32c(0, p, 92));
  return out;
}

uint32_t checkpointEntriesCrc(uint32_t crc, const IndexEntry* entries, size_t count) {
  return crc32c(crc, entries, count * kCheckpointEntryBytes);
}

std::string encodeCheckpoint(const CheckpointHeader& header, const IndexEntry* entries,
                             size_t count) {
  CheckpointHeader h = header;
  h.count = count;
  std::string out = encodeCheckpointHeader(h, checkpointEntriesCrc(0, entries, count));
  out.append(reinterpret_cast<const char*>(entries), count * kCheckpointEntryBytes);
  return out;
}

IndexEntry checkpointEntry(std::string_view bytes, size_t i) {
  IndexEntry e;
  std::memcpy(&e, bytes.data() + kCheckpointHeaderBytes + i * kCheckpointEntryBytes,
              sizeof e);
  return e;
}

Result<CheckpointHeader> decodeCheckpoint(std::string_view bytes,
                                          const CheckpointGeometry& expected) {
  if (bytes.size() < kCheckpointHeaderBytes) return bad("truncated");
  const char* p = bytes.data();
  if (get64(p) != kCheckpointMagic) return bad("magic");
  if (get32(p + 8) != kCheckpointVersion) return bad("version");
  if (crc32c(0, p, 92) != get32(p + 92)) return bad("header checksum");
  for (size_t i = 80; i < 92; ++i) {
    if (p[i] != 0) return bad("header checksum");
  }
  CheckpointHeader header;
  header.geometry.store_id = get32(p + 12);
  header.geometry.file_bytes = get64(p + 16);
  header.geometry.segment_bytes = get64(p + 24);
  header.geometry.log_start = get64(p + 32);
  header.geometry.data_bytes = get64(p + 40);
  header.covered = get64(p + 48);
  header.sentinel = get64(p + 56);
  header.sentinel_crc = get32(p + 64);
  header.count = get64(p + 72);
  if (header.geometry.store_id != expected.store_id) return bad("other store");
  if (!(header.geometry == expected)) return bad("geometry");
  const uint64_t room = (bytes.size() - kCheckpointHeaderBytes) / kCheckpointEntryBytes;
  if (header.count > room ||
      bytes.size() != kCheckpointHeaderBytes + header.count * kCheckpointEntryBytes) {
    return bad("truncated");
  }
  if (header.covered % kRecordAlign != 0 || header.sentinel == CheckpointHeader::kNoSentinel ||
      header.sentinel % kRecordAlign != 0 || header.sentinel >= header.covered) {
    return bad("entry");
  }
  if (crc32c(0, p + kCheckpointHeaderBytes, header.count * kCheckpointEntryBytes) !=
      get32(p + 68)) {
    return bad("entries checksum");
  }
  for (uint64_t i = 0; i < header.count; ++i) {
    const IndexEntry e = checkpointEntry(bytes, i);
    // A head record is at least a record header; it lies below `covered`, the object's first
    // byte no further back than one log size.
    if (e.key == 0 || e.headBytes() < kRecordHeaderBytes || e.head(header.covered) >= header.covered ||
        e.spanBytes() > header.geometry.data_bytes) {
      return bad("entry");
    }
  }
  return header;
}

}  // namespace ec::storage::disk
