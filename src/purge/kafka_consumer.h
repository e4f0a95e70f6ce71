#pragma once
// KafkaPurgeConsumer: consumes resource_change purge events from the configured topics with
// librdkafka, on a thread of its own. The consumer group is the node name, so every node gets
// every event. Each event older than max_age is dropped (counted as expired); the others are
// applied through the Purger. Offsets are stored only after the purge is applied and committed
// from the stored offsets (at-least-once: a restart re-applies at most the last second's
// purges and loses none). Reports the lag (age of the last applied event) and the backlog
// (messages not yet consumed) to the purge stats.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "base/time_source.h"
#include "purge/purger.h"

namespace ec::purge {

struct KafkaPurgeOptions {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group_id;
  uint64_t max_age_s = 0;                // 0: no limit
  std::vector<std::string> properties;   // extra librdkafka "key=value"
};

class KafkaPurgeConsumer {
 public:
  KafkaPurgeConsumer(Purger& purger, const TimeSource& clock, KafkaPurgeOptions options);
  ~KafkaPurgeConsumer();
  KafkaPurgeConsumer(const KafkaPurgeConsumer&) = delete;
  KafkaPurgeConsumer& operator=(const KafkaPurgeConsumer&) = delete;

  // Creates the consumer, subscribes and starts the thread; a bad property is an error.
  Status start();
  void stop();

  // One message payload (also the unit-test entry point): decode, age check, apply.
  // Returns false for a message that was not applied (malformed, expired or filtered).
  bool handlePayload(std::string_view payload);

 private:
  void run();
  void updateBacklog();

  Purger& purger_;
  const TimeSource& clock_;
  KafkaPurgeOptions options_;
  void* kafka_ = nullptr;  // rd_kafka_t*, kept out of this header
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ec::purge
