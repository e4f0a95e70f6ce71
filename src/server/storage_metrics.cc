#include "server/storage_metrics.h"

namespace ec::server {
namespace {
using observe::MetricDecl;
using Type = observe::MetricDecl::Type;

const MetricDecl kDiskUp{"edgecache_disk_store_up",
                         "1 while the disk store file serves, 0 once it failed (I/O error, "
                         "missing or unreadable file); the node then serves from memory and "
                         "the origin.",
                         Type::kGauge, {"path"}, {}, ""};
const MetricDecl kDiskBytes{"edgecache_disk_bytes",
                            "Bytes of objects held by a disk store (and being written to it).",
                            Type::kGauge, {"path"}, {}, "bytes"};
const MetricDecl kDiskCapacity{"edgecache_disk_capacity_bytes",
                               "Size of a disk store's log area.", Type::kGauge, {"path"}, {},
                               "bytes"};
const MetricDecl kDiskObjects{"edgecache_disk_objects", "Objects in a disk store.", Type::kGauge,
                              {"path"}, {}, ""};
const MetricDecl kDiskIndexBytes{"edgecache_disk_index_bytes",
                                 "Memory held by a disk store's index.", Type::kGauge, {"path"},
                                 {}, "bytes"};
const MetricDecl kDiskEvictions{"edgecache_disk_evictions_total",
                                "Objects a disk store dropped when it reclaimed its oldest "
                                "segments.",
                                Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskReclaims{"edgecache_disk_reclaimed_segments_total",
                               "Segments a disk store reclaimed (the log wrapped onto them).",
                               Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskOps{"edgecache_disk_operations_total",
                          "Disk store I/O: records read, aggregated writes, fdatasync calls.",
                          Type::kCounter, {"path", "op"}, {}, ""};
const MetricDecl kDiskIoBytes{"edgecache_disk_io_bytes_total", "Bytes read from and written to a disk store.",
                              Type::kCounter, {"path", "direction"}, {}, "bytes"};
const MetricDecl kDiskErrors{"edgecache_disk_errors_total",
                             "I/O errors of a disk store (each marks the store failed).",
                             Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskCorrupt{"edgecache_disk_corrupt_records_total",
                              "Records that failed their magic, version, position or checksum "
                              "check: answered as misses, never served.",
                              Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskDropped{"edgecache_disk_dropped_writes_total",
                              "Objects not written to a disk store: write queue full, larger "
                              "than cache.disk_max_object_size, or the store failed.",
                              Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskRebuild{"edgecache_disk_rebuild_seconds",
                              "Time the last start took to rebuild a disk store's index.",
                              Type::kGauge, {"path"}, {}, "seconds"};
const MetricDecl kDiskRangeReads{"edgecache_disk_range_reads_total",
                                 "Disk hits for one byte range that read only the fragments the "
                                 "range touches (not the object before or after it).",
                                 Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskMappedReads{"edgecache_disk_mapped_reads_total",
                                  "Fragments a disk store served zero-copy: mapped from the "
                                  "file, checked in place, spliced to the client "
                                  "(cache.disk_zero_copy).",
                                  Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskPunched{"edgecache_disk_punched_segments_total",
                              "Segments punched out of a store file before their rewrite (so "
                              "zero-copy bytes still in flight keep their content).",
                              Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskCheckpoints{"edgecache_disk_checkpoint_writes_total",
                                  "Index checkpoints a disk store wrote (clean stop, periodic).",
                                  Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskCheckpointErrors{"edgecache_disk_checkpoint_errors_total",
                                       "Index checkpoints a disk store could not write (the "
                                       "store serves on; the next start scans more of the log).",
                                       Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskCheckpointFallbacks{
    "edgecache_disk_checkpoint_fallbacks_total",
    "Starts that found an index checkpoint they could not use (corrupt, truncated, stale, "
    "another store or geometry) and scanned the whole store instead (reason in the log).",
    Type::kCounter, {"path"}, {}, ""};
const MetricDecl kDiskRebuildScanned{"edgecache_disk_rebuild_scanned_bytes",
                                     "Log bytes the last start read to rebuild a disk store's "
                                     "index (the whole log without a checkpoint, the part "
                                     "written after it with one).",
                                     Type::kGauge, {"path"}, {}, "bytes"};
const MetricDecl kDiskRebuildCheckpoint{"edgecache_disk_rebuild_from_checkpoint",
                                        "1 when the last start built a disk store's index from "
                                        "its checkpoint, 0 when it scanned the whole store.",
                                        Type::kGauge, {"path"}, {}, ""};
const MetricDecl kTierHits{"edgecache_tier_hits_total",
                           "Store lookups answered by each tier (memory = hit-front, disk = "
                           "hit-local) and by none (miss).",
                           Type::kCounter, {"tier"}, {}, ""};
const MetricDecl kPromotions{"edgecache_tier_promotions_total",
                             "Disk hits copied into the memory tier (admitted by "
                             "cache.memory_admission).",
                             Type::kCounter, {}, {}, ""};
const MetricDecl kAdmissionRejects{"edgecache_memory_admission_rejects_total",
                                   "Objects the memory admission policy kept out of memory "
                                   "(they are still stored on disk).",
                                   Type::kCounter, {}, {}, ""};

double load(const std::atomic<uint64_t>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}

}  // namespace

const std::vector<const observe::MetricDecl*>& storageMetricDecls() {
  static const std::vector<const MetricDecl*> decls = {
      &kDiskUp,       &kDiskBytes,   &kDiskCapacity, &kDiskObjects,  &kDiskIndexBytes,
      &kDiskEvictions, &kDiskReclaims, &kDiskOps,    &kDiskIoBytes,  &kDiskErrors,
      &kDiskCorrupt,  &kDiskDropped, &kDiskRebuild,  &kDiskRangeReads, &kDiskMappedReads,
      &kDiskPunched,  &kDiskCheckpoints, &kDiskCheckpointErrors, &kDiskCheckpointFallbacks,
      &kDiskRebuildScanned, &kDiskRebuildCheckpoint, &kTierHits,
      &kPromotions,   &kAdmissionRejects};
  return decls;
}

void registerStorageMetrics(observe::Registry& registry, storage::TieredStore& tiered) {
  for (const auto& owned : tiered.disks()) {
    storage::DiskStore& disk = *owned;
    const std::string_view path = disk.path();
    const storage::DiskStoreMetrics& m = disk.metrics();
    registry.callback(kDiskUp, {path}, [&disk] { return disk.up() ? 1.0 : 0.0; });
    registry.callback(kDiskBytes, {path}, [&disk] { return static_cast<double>(disk.stats().bytes); });
    registry.callback(kDiskCapacity, {path}, [&disk] { return static_cast<double>(disk.capacityBytes()); });
    registry.callback(kDiskObjects, {path}, [&disk] { return static_cast<double>(disk.stats().objects); });
    registry.callback(kDiskIndexBytes, {path}, [&disk] { return static_cast<double>(disk.indexMemoryBytes()); });
    registry.callback(kDiskEvictions, {path}, [&disk] { return static_cast<double>(disk.stats().evictions); });
    registry.callback(kDiskReclaims, {path}, [&m] { return load(m.reclaimed_segments); });
    registry.callback(kDiskOps, {path, "read"}, [&m] { return load(m.reads); });
    registry.callback(kDiskOps, {path, "write"}, [&m] { return load(m.writes); });
    registry.callback(kDiskOps, {path, "sync"}, [&m] { return load(m.syncs); });
    registry.callback(kDiskIoBytes, {path, "read"}, [&m] { return load(m.read_bytes); });
    registry.callback(kDiskIoBytes, {path, "write"}, [&m] { return load(m.write_bytes); });
    registry.callback(kDiskErrors, {path}, [&m] { return load(m.errors); });
    registry.callback(kDiskCorrupt, {path}, [&m] { return load(m.corrupt); });
    registry.callback(kDiskDropped, {path}, [&m] { return load(m.dropped_writes); });
    registry.callback(kDiskRangeReads, {path}, [&m] { return load(m.range_reads); });
    registry.callback(kDiskMappedReads, {path}, [&m] { return load(m.mapped_reads); });
    registry.callback(kDiskPunched, {path}, [&m] { return load(m.punched_segments); });
    registry.callback(kDiskCheckpoints, {path}, [&m] { return load(m.checkpoint_writes); });
    registry.callback(kDiskCheckpointErrors, {path}, [&m] { return load(m.checkpoint_write_errors); });
    registry.callback(kDiskCheckpointFallbacks, {path}, [&m] { return load(m.checkpoint_fallbacks); });
    registry.callback(kDiskRebuildScanned, {path}, [&m] { return load(m.rebuild_scanned_bytes); });
    registry.callback(kDiskRebuildCheckpoint, {path},
                      [&m] { return m.rebuilt_from_checkpoint.load() ? 1.0 : 0.0; });
    registry.callback(kDiskRebuild, {path}, [&m] { return static_cast<double>(m.rebuild_ms.load()) / 1000.0; });
  }
  registry.callback(kTierHits, {"memory"}, [&tiered] { return static_cast<double>(tiered.memoryHits()); });
  registry.callback(kTierHits, {"disk"}, [&tiered] { return static_cast<double>(tiered.diskHits()); });
  registry.callback(kTierHits, {"miss"}, [&tiered] { return static_cast<double>(tiered.stats().misses); });
  registry.callback(kPromotions, {}, [&tiered] { return static_cast<double>(tiered.promotions()); });
  registry.callback(kAdmissionRejects, {}, [&tiered] { return static_cast<double>(tiered.admissionRejects()); });
}

}  // namespace ec::server
