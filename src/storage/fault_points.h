#pragma once
// Fault points of the disk tier (libfiu, Debian libfiu-dev): named points in the store's I/O
// that a test switches on from outside the process to make a call fail with a chosen errno:
//   edgecache/disk/write   the aggregated pwrite      (e.g. failinfo=28: ENOSPC)
//   edgecache/disk/read    every pread of a record    (e.g. failinfo=5: EIO)
//   edgecache/disk/sync    fdatasync
// enableFaultControl(base) opens libfiu's remote control fifos (<base>-<pid>.in/.out) so that
// `fiu-ctrl -f <base> -c "enable name=edgecache/disk/write,failinfo=28" <pid>` works. The server
// calls it when EDGECACHE_FAULT_FIFO is set. Without libfiu at build time nothing fires.

#include <string>

namespace ec::storage {

// True when the fault point `name` is enabled now; errno is then set (failinfo, or EIO).
bool faultFires(const char* name);
// Returns false (with a reason) when libfiu is missing or the fifo cannot be made.
bool enableFaultControl(const std::string& fifo_base, std::string* error);

}  // namespace ec::storage
