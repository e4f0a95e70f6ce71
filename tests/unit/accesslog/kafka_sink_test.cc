// KafkaSink against librdkafka's built-in mock cluster (rdkafka_mock.h): no Kafka broker
// package exists on these machines, so the broker is librdkafka's own in-process mock, which
// speaks the real protocol over real sockets. A consumer reads the topic back and checks that
// every line arrived as one message, whole.

#include "accesslog/kafka_sink.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <set>
#include <string>

#include "accesslog/access_log.h"

namespace ec::accesslog {
namespace {

class MockCluster {
 public:
  MockCluster() {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    cluster_ = rd_kafka_mock_cluster_new(owner_, 1);
    rd_kafka_mock_topic_create(cluster_, "webrequest_text", 1, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

std::vector<std::string> consumeAll(const std::string& brokers, const std::string& topic,
                                    size_t expected) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "group.id", "test", error, sizeof error);
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", error, sizeof error);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(partitions, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer, partitions);
  rd_kafka_topic_partition_list_destroy(partitions);
  std::vector<std::string> messages;
  for (int i = 0; i < 200 && messages.size() < expected; ++i) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      messages.emplace_back(static_cast<const char*>(message->payload), message->len);
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return messages;
}

TEST(KafkaSinkTest, EveryLineArrivesAsOneMessage) {
  MockCluster cluster;
  KafkaSinkOptions options;
  options.brokers = cluster.bootstraps();
  options.topic = "webrequest_text";
  options.properties = {"linger.ms=5"};
  auto sink = KafkaSink::create(options);
  ASSERT_TRUE(sink.ok()) << sink.error().describe();
  KafkaSink* kafka = sink->get();
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(*sink));
  AccessLogOptions log_options;
  log_options.flush_interval = Millis{5};
  AccessLog log(log_options, std::move(sinks));
  log.start();
  constexpr int kLines = 50;
  for (int i = 0; i < kLines; ++i) {
    AccessRecord record;
    record.hostname = "cp1";
    record.http_method = "GET";
    record.uri_path = "/wiki/\"quoted\"\nnewline";
    record.http_status = 200;
    log.submit(record);
  }
  log.stop();  // flushes the producer
  EXPECT_EQ(kafka->delivered(), static_cast<uint64_t>(kLines));
  EXPECT_EQ(log.stats().dropped_sink_error.load(), 0u);
  const auto messages = consumeAll(cluster.bootstraps(), "webrequest_text", kLines);
  ASSERT_EQ(messages.size(), static_cast<size_t>(kLines));
  std::set<std::string> sequences;
  for (const std::string& message : messages) {
    EXPECT_EQ(message.front(), '{');
    EXPECT_EQ(message.back(), '}');
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_NE(message.find("\"uri_path\":\"/wiki/\\\"quoted\\\"\\nnewline\""), std::string::npos);
    sequences.insert(message.substr(message.find("\"sequence\":")));
  }
  EXPECT_EQ(sequences.size(), messages.size());
}

TEST(KafkaSinkTest, UndeliverableLinesAreCountedAsDropped) {
  // No broker listens on this address: messages time out and are counted as lost.
  KafkaSinkOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {"message.timeout.ms=300", "socket.connection.setup.timeout.ms=1000"};
  auto sink = KafkaSink::create(options);
  ASSERT_TRUE(sink.ok()) << sink.error().describe();
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(*sink));
  AccessLogOptions log_options;
  log_options.flush_interval = Millis{5};
  AccessLog log(log_options, std::move(sinks));
  log.start();
  for (int i = 0; i < 3; ++i) {
    AccessRecord record;
    record.uri_path = "/lost";
    log.submit(record);
  }
  log.stop();
  EXPECT_EQ(log.stats().dropped_sink_error.load(), 3u);
}

TEST(KafkaSinkTest, ABadPropertyIsAnError) {
  KafkaSinkOptions options;
  options.brokers = "127.0.0.1:9092";
  options.properties = {"no.such.property=1"};
  auto sink = KafkaSink::create(options);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().describe().find("no.such.property"), std::string::npos);
  options.properties = {"missing-equals"};
  EXPECT_FALSE(KafkaSink::create(options).ok());
}

}  // namespace
}  // namespace ec::accesslog
