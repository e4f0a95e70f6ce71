#include "accesslog/kafka_sink.h"

#include <librdkafka/rdkafka.h>

#include <cerrno>

#include "base/log.h"

namespace ec::accesslog {
namespace {

// What varnishkafka runs with at Wikimedia (snappy, acks=1, large batches), bounded.
const char* const kDefaults[][2] = {
    {"compression.codec", "snappy"},
    {"request.required.acks", "1"},
    {"queue.buffering.max.messages", "720000"},
    {"batch.num.messages", "9000"},
    {"message.timeout.ms", "60000"},
    {"socket.keepalive.enable", "true"},
};

Status setProperty(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    return fail(Error::internal(ErrorKind::kInvalidArgument,
                                "access log kafka: " + key + "=" + value + ": " + error));
  }
  return {};
}

}  // namespace

void KafkaSink::onDelivery(rd_kafka_t*, const void* message, void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
  } else {
    self->async_lost_.fetch_add(1, std::memory_order_relaxed);
  }
}

Result<std::unique_ptr<KafkaSink>> KafkaSink::create(const KafkaSinkOptions& options) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto failed = [&](Error error) -> Result<std::unique_ptr<KafkaSink>> {
    rd_kafka_conf_destroy(conf);
    return fail(std::move(error));
  };
  for (const auto& pair : kDefaults) {
    if (auto set = setProperty(conf, pair[0], pair[1]); !set.ok()) return failed(set.error());
  }
  if (!options.brokers.empty()) {
    if (auto set = setProperty(conf, "bootstrap.servers", options.brokers); !set.ok()) {
      return failed(set.error());
    }
  }
  for (const std::string& property : options.properties) {
    const size_t equals = property.find('=');
    if (equals == std::string::npos || equals == 0) {
      return failed(Error::internal(ErrorKind::kInvalidArgument,
                                    "access log kafka: property \"" + property +
                                        "\" is not key=value"));
    }
    if (auto set = setProperty(conf, property.substr(0, equals), property.substr(equals + 1));
        !set.ok()) {
      return failed(set.error());
    }
  }
  // librdkafka's own messages (brokers down, ...) join the diagnostic log, rate-limited.
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int level, const char* facility,
                                    const char* message) {
    if (level <= 3) {
      EC_LOG_EVERY_SECOND(LogLevel::kError, "access log kafka: %s: %s", facility, message);
    } else if (level <= 4) {
      EC_LOG_EVERY_SECOND(LogLevel::kWarning, "access log kafka: %s: %s", facility, message);
    }
  });
  // Each message carries its sink as msg_opaque (rkmessage->_private in the report).
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* message, void*) {
    if (message->_private != nullptr) onDelivery(rk, message, message->_private);
  });
  char error[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (producer == nullptr) return failed(Error::internal(ErrorKind::kInvalidArgument,
                                                         std::string("access log kafka: ") + error));
  // conf is owned by the producer from here on.
  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, options.topic.c_str(), nullptr);
  if (topic == nullptr) {
    rd_kafka_destroy(producer);
    return fail(Error::internal(ErrorKind::kInvalidArgument,
                                "access log kafka: topic " + options.topic + ": " +
                                    rd_kafka_err2str(rd_kafka_last_error())));
  }
  return std::make_unique<KafkaSink>(producer, topic);
}

KafkaSink::~KafkaSink() {
  rd_kafka_flush(producer_, 2000);
  rd_kafka_topic_destroy(topic_);
  rd_kafka_destroy(producer_);
}

Status KafkaSink::write(std::string_view lines, uint64_t& lines_lost) {
  lines_lost = 0;
  rd_kafka_resp_err_t last_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  size_t at = 0;
  while (at < lines.size()) {
    size_t end = lines.find('\n', at);
    if (end == std::string_view::npos) end = lines.size();
    if (end > at) {
      // F_COPY: librdkafka keeps its own copy, the batch buffer is reused at once.
      if (rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                           const_cast<char*>(lines.data() + at), end - at, nullptr, 0,
                           this) != 0) {
        ++lines_lost;
        last_error = rd_kafka_last_error();
      }
    }
    at = end + 1;
  }
  rd_kafka_poll(producer_, 0);  // serve delivery reports
  if (lines_lost != 0) {
    return fail(Error::internal(ErrorKind::kUnavailable,
                                std::string("access log kafka: produce: ") +
                                    rd_kafka_err2str(last_error)));
  }
  return {};
}

void KafkaSink::poll(bool final) {
  if (final) {
    rd_kafka_flush(producer_, 5000);
  } else {
    rd_kafka_poll(producer_, 0);
  }
}

}  // namespace ec::accesslog
