#pragma once
// resource_change purge events (wikimedia-traffic.md §1.3): the JSON EventBus produces for
// every purged URL, decoded to what a purge needs: meta.uri, the event time (root_event.dt
// when present, else meta.dt) and the tags. Transport-free (the Kafka consumer feeds it
// message payloads), so unit tests and the fuzzer reach it without a broker.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ec::purge {

struct PurgeEvent {
  std::string uri;
  std::optional<int64_t> event_time_ms;  // since the Unix epoch; none when no dt was given
  std::vector<std::string> tags;         // ["mediawiki"], ["restbase"], ...
};

// Refused (kParse): not JSON, not an object, no meta.uri string, a dt that is not ISO-8601.
Result<PurgeEvent> decodePurgeEvent(std::string_view json);

// "2020-05-07T09:48:24.065Z" or "...+02:00" -> milliseconds since the epoch (RFC 3339).
std::optional<int64_t> parseIso8601Millis(std::string_view text);

}  // namespace ec::purge
