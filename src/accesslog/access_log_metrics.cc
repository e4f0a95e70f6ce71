#include "accesslog/access_log_metrics.h"

#include "accesslog/kafka_sink.h"

namespace ec::accesslog {
namespace {
using observe::MetricDecl;
using Type = MetricDecl::Type;

const MetricDecl kDropped{
    "edgecache_access_log_dropped_total",
    "Access log lines lost: queue_full (a worker's queue, access_log.queue_size, was full; the "
    "request was served), sink_error (a file write or Kafka delivery failed).",
    Type::kCounter, {"reason"}, {}, ""};
const MetricDecl kLines{"edgecache_access_log_lines_total",
                        "Access log lines handed to each sink (file, kafka).", Type::kCounter,
                        {"sink"}, {}, ""};
const MetricDecl kQueued{"edgecache_access_log_queue_bytes",
                         "Bytes of access log lines waiting for the writer thread.", Type::kGauge,
                         {}, {}, "bytes"};
const MetricDecl kKafkaDelivered{"edgecache_access_log_kafka_delivered_total",
                                 "Access log lines the Kafka brokers acknowledged.",
                                 Type::kCounter, {}, {}, ""};
const MetricDecl kReopens{"edgecache_access_log_reopens_total",
                          "Access log file reopens (SIGUSR1), by outcome.", Type::kCounter,
                          {"outcome"}, {}, ""};

double load(const std::atomic<uint64_t>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}

}  // namespace

const std::vector<const observe::MetricDecl*>& metricDecls() {
  static const std::vector<const MetricDecl*> decls = {&kDropped, &kLines, &kQueued, &kReopens,
                                                       &kKafkaDelivered};
  return decls;
}

void registerMetrics(observe::Registry& registry, AccessLog* log) {
  if (log == nullptr) {
    registry.callback(kDropped, {"queue_full"}, [] { return 0.0; });
    registry.callback(kDropped, {"sink_error"}, [] { return 0.0; });
    return;
  }
  const AccessLogStats& stats = log->stats();
  registry.callback(kDropped, {"queue_full"}, [&stats] { return load(stats.dropped_queue_full); });
  registry.callback(kDropped, {"sink_error"}, [&stats] { return load(stats.dropped_sink_error); });
  const std::vector<std::string_view> names = log->sinkNames();
  for (size_t i = 0; i < names.size(); ++i) {
    registry.callback(kLines, {names[i]}, [log, i] { return static_cast<double>(log->linesWritten(i)); });
    if (auto* kafka = dynamic_cast<KafkaSink*>(&log->sink(i))) {
      registry.callback(kKafkaDelivered, {}, [kafka] { return static_cast<double>(kafka->delivered()); });
    }
  }
  registry.callback(kQueued, {}, [log] { return static_cast<double>(log->queuedBytes()); });
  registry.callback(kReopens, {"ok"}, [&stats] { return load(stats.reopens); });
  registry.callback(kReopens, {"failed"}, [&stats] { return load(stats.reopen_failures); });
}

}  // namespace ec::accesslog
