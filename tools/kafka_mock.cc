// kafka_mock: a Kafka cluster for tests, from librdkafka's built-in mock cluster (no broker
// package exists on these machines). Prints "BOOTSTRAP host:port[,...]" once the brokers
// listen, then reads commands on stdin, one per line:
//   <topic> <payload>   produce payload (the rest of the line) to topic, wait for the ack
//   QUIT                exit
// Usage: kafka_mock TOPIC[,TOPIC...] [PARTITIONS]
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kafka_mock TOPIC[,TOPIC...] [PARTITIONS]\n");
    return 2;
  }
  const int partitions = argc > 2 ? std::atoi(argv[2]) : 1;
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", error, sizeof error) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "linger.ms", "0", error, sizeof error) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "kafka_mock: %s\n", error);
    return 1;
  }
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (producer == nullptr) {
    std::fprintf(stderr, "kafka_mock: %s\n", error);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(producer);
  std::stringstream topics(argv[1]);
  for (std::string topic; std::getline(topics, topic, ',');) {
    rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, 1);
  }
  std::printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);
  for (std::string line; std::getline(std::cin, line);) {
    if (line == "QUIT") break;
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string topic = line.substr(0, space);
    const std::string payload = line.substr(space + 1);
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(producer, 10000);
    std::printf("%s\n", err == RD_KAFKA_RESP_ERR_NO_ERROR ? "OK" : rd_kafka_err2str(err));
    std::fflush(stdout);
  }
  rd_kafka_destroy(producer);
  return 0;
}
