#pragma once
// KafkaSink: ships access log lines to a Kafka topic (webrequest_text, as varnishkafka and
// haproxykafka do) with librdkafka's producer, one message per line. Lines are copied into
// librdkafka's bounded queue; when it is full the line is dropped and counted, so Kafka being
// slow or away never holds the writer thread (let alone a worker). Delivery failures reported
// later by librdkafka are counted too.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "accesslog/sink.h"
#include "base/result.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace ec::accesslog {

struct KafkaSinkOptions {
  std::string brokers;                  // bootstrap.servers, "host:port,host:port"
  std::string topic = "webrequest_text";
  // Extra librdkafka properties, "key=value" (e.g. "compression.codec=snappy").
  std::vector<std::string> properties;
};

class KafkaSink final : public Sink {
 public:
  // Creates the producer; errors name the property librdkafka refused.
  static Result<std::unique_ptr<KafkaSink>> create(const KafkaSinkOptions& options);
  ~KafkaSink() override;

  std::string_view name() const override { return "kafka"; }
  Status write(std::string_view lines, uint64_t& lines_lost) override;
  void poll(bool final) override;
  uint64_t takeAsyncLost() override { return async_lost_.exchange(0); }

  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }

  KafkaSink(rd_kafka_s* producer, rd_kafka_topic_s* topic) : producer_(producer), topic_(topic) {}

 private:
  static void onDelivery(rd_kafka_s* producer, const void* message, void* opaque);

  rd_kafka_s* producer_;
  rd_kafka_topic_s* topic_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> async_lost_{0};
};

}  // namespace ec::accesslog
