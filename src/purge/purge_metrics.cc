#include "purge/purge_metrics.h"

namespace ec::purge {
namespace {
using observe::MetricDecl;
using Type = observe::MetricDecl::Type;

const MetricDecl kReceived{"edgecache_purges_received_total",
                           "Purges received, by channel (http, htcp, kafka).", Type::kCounter,
                           {"source"}, {}, ""};
const MetricDecl kApplied{"edgecache_purges_applied_total",
                          "Purges applied to every tier, by channel.", Type::kCounter,
                          {"source"}, {}, ""};
const MetricDecl kRejected{
    "edgecache_purges_rejected_total",
    "Purges not applied, by channel and reason: forbidden (source outside purge.allow, 405), "
    "domain_not_cached (host outside purge.host_regex), malformed (URL, packet or event "
    "unreadable), not_clr (an HTCP opcode other than CLR, or a response).",
    Type::kCounter, {"source", "reason"}, {}, ""};
const MetricDecl kExpired{"edgecache_purges_expired_total",
                          "Kafka purge events dropped because older than purge.kafka.max_age.",
                          Type::kCounter, {}, {}, ""};
const MetricDecl kHtcpLost{"edgecache_htcp_lost_total",
                           "HTCP CLR packets missing from senders with sequential transaction "
                           "ids (purge.htcp.sequential_sources): gaps in the ids.",
                           Type::kCounter, {}, {}, ""};
const MetricDecl kObjectsPurged{"edgecache_purged_objects_total",
                                "Cached variants removed by purges (all tiers).", Type::kCounter,
                                {}, {}, ""};
const MetricDecl kLag{"edgecache_purge_event_lag_seconds",
                      "Age of the last applied Kafka purge event (now - root_event.dt, else "
                      "meta.dt) when it was applied.",
                      Type::kGauge, {}, {}, "seconds"};
const MetricDecl kBacklog{"edgecache_purge_backlog",
                          "Kafka purge messages not yet consumed (high watermark - position, "
                          "summed over assigned partitions).",
                          Type::kGauge, {}, {}, ""};

double load(const std::atomic<uint64_t>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}

}  // namespace

const std::vector<const observe::MetricDecl*>& metricDecls() {
  static const std::vector<const MetricDecl*> decls = {&kReceived, &kApplied,        &kRejected,
                                                       &kExpired,  &kHtcpLost,       &kObjectsPurged,
                                                       &kLag,      &kBacklog};
  return decls;
}

void registerMetrics(observe::Registry& registry, Purger& purger) {
  PurgeStats& stats = purger.stats();
  for (size_t s = 0; s < PurgeStats::kSources; ++s) {
    const char* source = purgeSourceName(static_cast<PurgeSource>(s));
    registry.callback(kReceived, {source}, [&stats, s] { return load(stats.received[s]); });
    registry.callback(kApplied, {source}, [&stats, s] { return load(stats.applied[s]); });
    for (size_t r = 0; r < PurgeStats::kReasons; ++r) {
      registry.callback(kRejected, {source, rejectReasonName(static_cast<RejectReason>(r))},
                        [&stats, s, r] { return load(stats.rejected[s][r]); });
    }
  }
  registry.callback(kExpired, {}, [&stats] { return load(stats.expired); });
  registry.callback(kHtcpLost, {}, [&stats] { return load(stats.htcp_lost); });
  registry.callback(kObjectsPurged, {}, [&stats] { return load(stats.objects_removed); });
  registry.callback(kLag, {}, [&stats] {
    return static_cast<double>(stats.event_lag_ms.load(std::memory_order_relaxed)) / 1000.0;
  });
  registry.callback(kBacklog, {}, [&stats] {
    return static_cast<double>(stats.backlog.load(std::memory_order_relaxed));
  });
}

}  // namespace ec::purge
