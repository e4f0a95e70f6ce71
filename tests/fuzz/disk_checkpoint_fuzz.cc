// Fuzzes the disk tier's checkpoint decoder (storage/disk_checkpoint.h). The first byte picks:
//   0: the rest is a checkpoint file for a fixed store geometry: decoding never crashes, and
//      what decodes re-encodes (header + the entries it holds) to the same bytes;
//   1: the rest are index entries (24 bytes each) and a covered position: a checkpoint made of
//      the well-formed ones decodes to the same entries, and any one flipped byte or any
//      truncation of it is an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "storage/disk_checkpoint.h"

namespace {
namespace disk = ec::storage::disk;

void check(bool condition) {
  if (!condition) std::abort();
}

const disk::CheckpointGeometry kGeometry{0x5eed, 64 << 20, 4 << 20, 2 << 20, 60 << 20};

void fuzzImage(std::string_view bytes) {
  auto decoded = disk::decodeCheckpoint(bytes, kGeometry);
  if (!decoded.ok()) return;
  const disk::CheckpointHeader& header = decoded.value();
  check(bytes.size() == disk::kCheckpointHeaderBytes + header.count * disk::kCheckpointEntryBytes);
  std::vector<disk::IndexEntry> entries;
  for (uint64_t i = 0; i < header.count; ++i) {
    entries.push_back(disk::checkpointEntry(bytes, i));
    check(entries.back().key != 0);
    check(entries.back().head(header.covered) < header.covered);
  }
  check(disk::encodeCheckpoint(header, entries.data(), entries.size()) == bytes);
}

void fuzzEntries(const uint8_t* data, size_t size) {
  if (size < 8) return;
  uint64_t covered = 0;
  std::memcpy(&covered, data, 8);
  covered = (covered % (uint64_t{1} << 50) + 4096) & ~uint64_t{15};
  std::vector<disk::IndexEntry> entries;
  for (size_t at = 8; at + 24 <= size; at += 24) {
    disk::IndexEntry e;
    std::memcpy(&e, data + at, 24);
    // Keep what a store would write: a key, a head of at least a record header below covered.
    if (e.key == 0 || e.headBytes() < 40 || e.head(covered) >= covered ||
        e.spanBytes() > kGeometry.data_bytes) {
      continue;
    }
    entries.push_back(e);
  }
  disk::CheckpointHeader header;
  header.geometry = kGeometry;
  header.covered = covered;
  header.sentinel = covered - 16;
  header.sentinel_crc = static_cast<uint32_t>(size);
  const std::string image = disk::encodeCheckpoint(header, entries.data(), entries.size());
  auto decoded = disk::decodeCheckpoint(image, kGeometry);
  check(decoded.ok());
  check(decoded.value().count == entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    check(std::memcmp(&entries[i], image.data() + disk::kCheckpointHeaderBytes + i * 24, 24) == 0);
  }
  const size_t flip = (size * 7919) % image.size();
  std::string bad = image;
  bad[flip] = static_cast<char>(bad[flip] ^ (1 + size % 255));
  check(!disk::decodeCheckpoint(bad, kGeometry).ok());
  check(!disk::decodeCheckpoint(std::string_view(image).substr(0, image.size() - 1 - size % image.size() % 24), kGeometry).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] % 2 == 0) {
    fuzzImage(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    fuzzEntries(data + 1, size - 1);
  }
  return 0;
}
