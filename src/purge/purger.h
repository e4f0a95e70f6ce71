#pragma once
// Purger: the one place every purge goes through, whatever channel brought it (HTTP PURGE,
// HTCP CLR, Kafka). It checks the host regex (hosts not cached here are answered "Domain not
// cached here" and left alone), builds the primary key exactly as the request phase does
// (cache::primaryKey, for both http and https, since a URL purged as http:// must also drop
// what TLS clients fetched), fences fetches in flight for the key (so an older body still
// arriving is not stored afterwards), then calls Store::eraseAll, which every tier implements.
// Also owns the HTTP PURGE source ACL and the purge counters. Thread-safe: workers, the HTCP
// thread and the Kafka thread call it at once.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "admin/access_list.h"
#include "base/result.h"
#include "purge/purge_target.h"
#include "storage/store.h"

namespace ec::purge {

enum class PurgeSource : uint8_t { kHttp, kHtcp, kKafka, kCount };
const char* purgeSourceName(PurgeSource source);

enum class RejectReason : uint8_t {
  kForbidden,        // HTTP PURGE from a source outside purge.allow (405)
  kDomainNotCached,  // host outside purge.host_regex (204 "Domain not cached here")
  kMalformed,        // a URL, packet or event that could not be read
  kNotClr,           // an HTCP packet with another opcode, or a response
  kCount
};
const char* rejectReasonName(RejectReason reason);

// Reloadable settings (purge.allow, purge.host_regex), swapped whole on SIGHUP.
struct PurgeSettings {
  admin::AccessList http_allow;
  std::optional<std::regex> host_regex;  // none: every host is cached here

  // Compiles purge.allow and purge.host_regex; an error names the bad value.
  static Result<std::shared_ptr<const PurgeSettings>> build(const std::vector<std::string>& allow,
                                                            const std::string& host_regex);
};

struct PurgeStats {
  static constexpr size_t kSources = static_cast<size_t>(PurgeSource::kCount);
  static constexpr size_t kReasons = static_cast<size_t>(RejectReason::kCount);
  std::array<std::atomic<uint64_t>, kSources> received{};
  std::array<std::atomic<uint64_t>, kSources> applied{};
  std::array<std::array<std::atomic<uint64_t>, kReasons>, kSources> rejected{};
  std::atomic<uint64_t> expired{0};       // Kafka events older than purge.kafka.max_age
  std::atomic<uint64_t> htcp_lost{0};     // gaps in sequential HTCP transaction ids
  std::atomic<uint64_t> objects_removed{0};
  std::atomic<int64_t> event_lag_ms{0};   // age of the last applied Kafka event
  std::atomic<int64_t> backlog{0};        // Kafka messages not yet consumed
};

class Purger {
 public:
  // Called with each primary key before its objects are erased (kBegin) and after (kEnd): the
  // proxy's coalescer uses it to stop a fetch in flight for the key from storing the body it
  // is receiving, and a disk read begun before the purge from promoting the old object.
  enum class FencePhase { kBegin, kEnd };
  using Fence = std::function<void(const std::string& primary_key, FencePhase phase)>;

  Purger(storage::Store& store, Fence fence, std::shared_ptr<const PurgeSettings> settings);

  void setSettings(std::shared_ptr<const PurgeSettings> settings) {
    std::atomic_store(&settings_, std::move(settings));
  }
  std::shared_ptr<const PurgeSettings> settings() const { return std::atomic_load(&settings_); }

  // HTTP PURGE: is this client (numeric IP as the connection reports it) in purge.allow?
  bool allowsHttpFrom(std::string_view ip) const;

  enum class Outcome { kPurged, kDomainNotCached };
  // Counts the purge as received, then applies it (or refuses it by host regex).
  Outcome purge(PurgeSource source, const PurgeTarget& target);
  // The same for an absolute URL (HTCP, Kafka); a URL that cannot be read is counted as
  // rejected{reason="malformed"} and returned as the error.
  Result<Outcome> purgeUrl(PurgeSource source, std::string_view url);

  // Applies a purge already counted as received (by a channel that counts packets first).
  Outcome applyReceived(PurgeSource source, const PurgeTarget& target) { return apply(source, target); }

  void countReceived(PurgeSource source) { bump(stats_.received[index(source)]); }
  void countRejected(PurgeSource source, RejectReason reason) {
    bump(stats_.rejected[index(source)][static_cast<size_t>(reason)]);
  }
  PurgeStats& stats() { return stats_; }
  const PurgeStats& stats() const { return stats_; }

 private:
  static size_t index(PurgeSource source) { return static_cast<size_t>(source); }
  static void bump(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
  Outcome apply(PurgeSource source, const PurgeTarget& target);

  storage::Store& store_;
  Fence fence_;
  std::shared_ptr<const PurgeSettings> settings_;
  PurgeStats stats_;
};

}  // namespace ec::purge
