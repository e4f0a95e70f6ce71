// Fuzzes the disk tier's decoders (storage/disk_format.h) and its index (storage/disk_index.h).
// The first byte picks the target:
//   0: a whole record (header, checksum, then the head or tombstone payload it claims to hold);
//      anything that decodes must re-encode to the same bytes; the checksum verified in pieces
//      must agree with the checksum over the whole record;
//   1: a head payload alone, and its summary;
//   2: the store-file header;
//   3: a sequence of index operations (insert / remove by key / reclaim) checked against a
//      plain model: every entry the model holds is found, nothing else is.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "storage/disk_format.h"
#include "storage/disk_index.h"

namespace {
namespace disk = ec::storage::disk;

void check(bool condition) {
  if (!condition) std::abort();
}

void fuzzRecord(std::string_view bytes) {
  const auto header = disk::decodeRecordHeader(bytes);
  if (!header) return;
  const bool verified = disk::verifyRecord(*header, bytes);
  if (bytes.size() >= disk::kRecordHeaderBytes + uint64_t{header->payload_bytes}) {
    // A disk hit checks the payload where it landed, in pieces (body chunks, the file mapping):
    // the same verdict as over the whole record, wherever the pieces are cut.
    std::string payload(bytes.substr(disk::kRecordHeaderBytes, header->payload_bytes));
    const size_t a = payload.size() / 3;
    const size_t b = payload.size() - payload.size() / 5;
    struct iovec spans[3] = {{payload.data(), a},
                             {payload.data() + a, b - a},
                             {payload.data() + b, payload.size() - b}};
    check(disk::verifyRecordParts(*header, bytes.data(), spans, 3) == verified);
  }
  if (!verified) return;
  const std::string_view payload = bytes.substr(disk::kRecordHeaderBytes, header->payload_bytes);
  if (header->type == disk::RecordType::kHead) {
    auto head = disk::decodeHead(payload);
    if (head.ok()) check(disk::encodeHead(head.value()) == payload);
  } else if (header->type == disk::RecordType::kTombstone) {
    auto tombstone = disk::decodeTombstone(payload);
    if (tombstone.ok()) check(disk::encodeTombstone(tombstone.value()) == payload);
  }
}

void fuzzHead(std::string_view bytes) {
  auto head = disk::decodeHead(bytes);
  const auto summary = disk::peekHeadSummary(bytes);
  if (head.ok()) {
    check(summary.has_value());
    check(summary->body_bytes == head.value().body_bytes);
    check(disk::encodeHead(head.value()) == bytes);
  }
}

void fuzzIndex(const uint8_t* data, size_t size) {
  disk::DiskIndex index(4);
  std::multimap<uint64_t, uint64_t> model;  // key -> head
  uint64_t next_head = 16;
  for (size_t i = 0; i + 2 <= size; i += 2) {
    const uint8_t op = data[i] % 4;
    const uint64_t key = (data[i + 1] % 32) * 0x9e3779b97f4a7c15ull + 1;  // collisions wanted
    if (op <= 1) {
      index.insert(disk::IndexEntry::make(key, next_head, 64, 0, 10, 0, 0));
      model.emplace(key, next_head);
      next_head += 16;
    } else if (op == 2) {
      index.removeWithKey(key, [](const disk::IndexEntry&) { return true; });
      model.erase(key);
    } else {
      const uint64_t floor = next_head / 2;
      index.removeAllIf([&](const disk::IndexEntry& e) { return e.head(next_head) < floor; },
                        [](const disk::IndexEntry&) {});
      for (auto it = model.begin(); it != model.end();) it = it->second < floor ? model.erase(it) : ++it;
    }
    check(index.size() == model.size());
  }
  for (uint64_t k = 0; k < 32; ++k) {
    const uint64_t key = k * 0x9e3779b97f4a7c15ull + 1;
    size_t seen = 0;
    index.forEachWithKey(key, [&](const disk::IndexEntry&) { ++seen; });
    check(seen == model.count(key));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      fuzzRecord(rest);
      break;
    case 1:
      fuzzHead(rest);
      break;
    case 2:
      (void)disk::decodeFileHeader(rest);
      break;
    default:
      fuzzIndex(data + 1, size - 1);
  }
  return 0;
}
