// resource_change event decoder (purge/kafka_event.h): Kafka payloads are produced by other
// services and must never crash a node.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "purge/kafka_event.h"
#include "purge/purge_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto event = ec::purge::decodePurgeEvent(text);
  if (event.ok()) (void)ec::purge::parsePurgeUrl(event->uri);
  (void)ec::purge::parseIso8601Millis(text);
  return 0;
}
