#include "purge/kafka_event.h"

#include <gtest/gtest.h>

#include "base/time_source.h"
#include "purge/kafka_consumer.h"
#include "storage/memory_store.h"

namespace ec::purge {
namespace {

TEST(KafkaEvent, DecodesTheEventEventBusProduces) {
  // From purged's integration data (wikimedia-traffic.md §1.3).
  auto event = decodePurgeEvent(
      R"({"$schema":"/resource_change/1.0.0","meta":{"uri":"http://es.wikipedia.org/api/rest_v1/page/html/Foo","stream":"resource_change","request_id":"A","id":"A","dt":"2020-05-07T09:48:24.065Z","domain":"es.wikipedia.org"},"tags":["restbase"]})");
  ASSERT_TRUE(event.ok()) << event.error().context;
  EXPECT_EQ(event->uri, "http://es.wikipedia.org/api/rest_v1/page/html/Foo");
  ASSERT_TRUE(event->event_time_ms);
  EXPECT_EQ(*event->event_time_ms, 1588844904065);
  ASSERT_EQ(event->tags.size(), 1u);
  EXPECT_EQ(event->tags[0], "restbase");
}

TEST(KafkaEvent, RootEventTimeWinsOverMetaTime) {
  auto event = decodePurgeEvent(
      R"({"meta":{"uri":"http://a/b","dt":"2020-05-07T09:48:24Z"},"root_event":{"signature":"s","dt":"2020-05-07T08:00:00+01:00"},"tags":["null_edit","restbase"]})");
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(*event->event_time_ms, 1588834800000);  // 07:00:00Z
  EXPECT_EQ(event->tags.size(), 2u);
}

TEST(KafkaEvent, RefusesWhatIsNotAPurgeEvent) {
  for (const char* text : {"", "{", "[]", "42", R"({"meta":{}})", R"({"meta":{"uri":5}})",
                           R"({"meta":{"uri":"http://a/","dt":"yesterday"}})",
                           R"({"meta":{"uri":"http://a/","dt":7}})", R"({"uri":"http://a/"})"}) {
    EXPECT_FALSE(decodePurgeEvent(text).ok()) << text;
  }
  EXPECT_TRUE(decodePurgeEvent(R"({"meta":{"uri":"http://a/"}})").ok());  // dt is optional
}

TEST(KafkaEvent, Iso8601) {
  EXPECT_EQ(parseIso8601Millis("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parseIso8601Millis("2000-03-01T00:00:00.5Z"), 951868800500);
  EXPECT_EQ(parseIso8601Millis("2000-03-01T01:30:00+01:30"), 951868800000);
  EXPECT_EQ(parseIso8601Millis("1999-12-31T23:00:00-01:00"), 946684800000);
  for (const char* bad : {"2020-05-07", "2020-05-07T09:48:24", "2020-13-07T09:48:24Z",
                          "2020-05-07T09:48:24.Z", "2020-05-07T09:48:24Zjunk", "2020-05-07T25:00:00Z"}) {
    EXPECT_FALSE(parseIso8601Millis(bad)) << bad;
  }
}

TEST(KafkaPurgeConsumer, AppliesExpiresAndReportsLagWithoutABroker) {
  storage::MemoryStoreOptions o;
  o.capacity_bytes = 1 << 20;
  o.shards = 2;
  o.max_object_bytes = 1 << 16;
  storage::MemoryStore store(o);
  Purger purger(store, nullptr, *PurgeSettings::build({}, ""));
  ManualTimeSource clock(WallTime{Seconds{1588844904 + 10}});
  KafkaPurgeOptions options;
  options.max_age_s = 3600;
  KafkaPurgeConsumer consumer(purger, clock, options);  // never started: no broker needed
  EXPECT_TRUE(consumer.handlePayload(R"({"meta":{"uri":"http://a/b","dt":"2020-05-07T09:48:24.000Z"}})"));
  EXPECT_EQ(purger.stats().event_lag_ms.load(), 10000);
  EXPECT_FALSE(consumer.handlePayload(R"({"meta":{"uri":"http://a/b","dt":"2020-05-07T07:48:24Z"}})"));
  EXPECT_EQ(purger.stats().expired.load(), 1u);
  EXPECT_FALSE(consumer.handlePayload("nope"));
  EXPECT_FALSE(consumer.handlePayload(R"({"meta":{"uri":"gopher://a/b"}})"));
  const size_t k = static_cast<size_t>(PurgeSource::kKafka);
  EXPECT_EQ(purger.stats().received[k].load(), 4u);
  EXPECT_EQ(purger.stats().applied[k].load(), 1u);
  EXPECT_EQ(purger.stats().rejected[k][size_t(RejectReason::kMalformed)].load(), 2u);
}

}  // namespace
}  // namespace ec::purge
