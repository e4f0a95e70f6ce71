#include "purge/kafka_consumer.h"

#include <librdkafka/rdkafka.h>

#include "base/log.h"
#include "purge/kafka_event.h"

namespace ec::purge {
namespace {

rd_kafka_t* handle(void* kafka) { return static_cast<rd_kafka_t*>(kafka); }

Error kafkaError(const std::string& what) {
  return Error::internal(ErrorKind::kInvalidArgument, "kafka: " + what);
}

}  // namespace

KafkaPurgeConsumer::KafkaPurgeConsumer(Purger& purger, const TimeSource& clock,
                                       KafkaPurgeOptions options)
    : purger_(purger), clock_(clock), options_(std::move(options)) {}

KafkaPurgeConsumer::~KafkaPurgeConsumer() { stop(); }

Status KafkaPurgeConsumer::start() {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      return false;
    }
    return true;
  };
  // Offsets: stored by us after each purge is applied, committed from the store by
  // librdkafka every second; never stored before the purge happened.
  bool ok = set("bootstrap.servers", options_.brokers) && set("group.id", options_.group_id) &&
            set("client.id", "edgecache-purge") && set("enable.auto.commit", "true") &&
            set("auto.commit.interval.ms", "1000") && set("enable.auto.offset.store", "false") &&
            set("auto.offset.reset", "latest") && set("enable.partition.eof", "false");
  for (const std::string& property : options_.properties) {
    if (!ok) break;
    const size_t equals = property.find('=');
    ok = equals != std::string::npos && set(property.substr(0, equals), property.substr(equals + 1));
  }
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return fail(kafkaError(error));
  }
  rd_kafka_t* kafka = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (kafka == nullptr) {
    rd_kafka_conf_destroy(conf);
    return fail(kafkaError(error));
  }
  rd_kafka_poll_set_consumer(kafka);
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size()));
  for (const std::string& topic : options_.topics) {
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t subscribed = rd_kafka_subscribe(kafka, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(kafka);
    return fail(kafkaError(std::string("subscribe: ") + rd_kafka_err2str(subscribed)));
  }
  kafka_ = kafka;
  thread_ = std::thread([this] { run(); });
  return {};
}

void KafkaPurgeConsumer::stop() {
  if (thread_.joinable()) {
    stopping_.store(true);
    thread_.join();
  }
  if (kafka_ != nullptr) {
    rd_kafka_t* kafka = handle(kafka_);
    // Commits what was stored (every applied purge), then leaves the group; bounded, so a
    // cluster that is gone cannot hold up a drain.
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(kafka);
    if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(kafka, queue)) {
      rd_kafka_error_destroy(error);
    }
    for (int i = 0; i < 50 && !rd_kafka_consumer_closed(kafka); ++i) {
      if (rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 100)) rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_destroy_flags(kafka, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    kafka_ = nullptr;
  }
}

bool KafkaPurgeConsumer::handlePayload(std::string_view payload) {
  purger_.countReceived(PurgeSource::kKafka);
  auto event = decodePurgeEvent(payload);
  if (!event.ok()) {
    purger_.countRejected(PurgeSource::kKafka, RejectReason::kMalformed);
    return false;
  }
  const int64_t now_ms =
      static_cast<int64_t>(clock_.wallNow().time_since_epoch().count()) * 1000;
  if (event->event_time_ms && options_.max_age_s != 0 &&
      now_ms - *event->event_time_ms > static_cast<int64_t>(options_.max_age_s) * 1000) {
    purger_.stats().expired.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  auto target = parsePurgeUrl(event->uri);
  if (!target.ok()) {
    purger_.countRejected(PurgeSource::kKafka, RejectReason::kMalformed);
    return false;
  }
  const bool applied = purger_.applyReceived(PurgeSource::kKafka, *target) == Purger::Outcome::kPurged;
  if (applied && event->event_time_ms) {
    const int64_t lag = now_ms - *event->event_time_ms;
    purger_.stats().event_lag_ms.store(lag > 0 ? lag : 0, std::memory_order_relaxed);
  }
  return applied;
}

void KafkaPurgeConsumer::run() {
  rd_kafka_t* kafka = handle(kafka_);
  uint32_t polls = 0;
  while (!stopping_.load(std::memory_order_relaxed)) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(kafka, 100);
    if (message != nullptr) {
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        handlePayload(std::string_view(static_cast<const char*>(message->payload), message->len));
        // Stored only now that the purge is applied (or deliberately dropped).
        rd_kafka_offset_store(message->rkt, message->partition, message->offset);
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        EC_LOG_WARN("kafka purge consumer: %s", rd_kafka_message_errstr(message));
      }
      rd_kafka_message_destroy(message);
    }
    if (message == nullptr || ++polls % 256 == 0) updateBacklog();
  }
}

void KafkaPurgeConsumer::updateBacklog() {
  rd_kafka_t* kafka = handle(kafka_);
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  if (rd_kafka_assignment(kafka, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR || assignment == nullptr) {
    return;
  }
  rd_kafka_position(kafka, assignment);
  int64_t backlog = 0;
  for (int i = 0; i < assignment->cnt; ++i) {
    const rd_kafka_topic_partition_t& partition = assignment->elems[i];
    int64_t low = 0;
    int64_t high = 0;
    // Cached watermarks (from fetch responses): no broker round trip.
    if (rd_kafka_get_watermark_offsets(kafka, partition.topic, partition.partition, &low, &high) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;
    }
    if (partition.offset < 0) continue;  // nothing consumed yet: no position to count from
    if (high > partition.offset) backlog += high - partition.offset;
  }
  rd_kafka_topic_partition_list_destroy(assignment);
  purger_.stats().backlog.store(backlog, std::memory_order_relaxed);
}

}  // namespace ec::purge
