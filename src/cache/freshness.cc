#include "cache/freshness.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "cache/cache_control.h"
#include "cache/vary.h"
#include "http/date.h"
#include "http/serializer.h"

namespace ec::cache {
namespace {

// Hop-by-hop (the standard set or named in Connection), Age or Content-Length: fields a stored
// head never keeps.
bool isNeverStored(std::string_view name, const http::ConnectionNames& connection_names) {
  return http::isHopByHopField(name) || equalsIgnoreCase(name, "age") ||
         equalsIgnoreCase(name, "content-length") || connection_names.contains(name);
}

void appendStoredLine(std::string& head, const http::Field& field) {
  head.append(field.name).append(": ").append(field.value).append("\r\n");
}

int64_t secondsBetween(WallTime from, WallTime to) {
  return std::chrono::duration_cast<Seconds>(to - from).count();
}

// Age field (RFC 9111 §5.1): a singleton, so only the first value counts, whether a second
// one follows on the same line ("7200, 0") or on another line; parameters after ';' are
// ignored. The value is delta-seconds; too large clamps to 2^31 (§1.2.2), and anything else
// ("abc", "-1", "7200.0") is ignored (treated as 0).
int64_t ageValue(const http::Fields& fields) {
  auto age = fields.get("age");
  if (!age) return 0;
  std::string_view first = *age;
  first = first.substr(0, first.find(','));
  first = first.substr(0, first.find(';'));
  const std::string_view digits = trimOws(first);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), isDigit)) return 0;
  auto value = parseDecimal(digits);
  if (!value || *value > static_cast<uint64_t>(kMaxDeltaSeconds)) return kMaxDeltaSeconds;
  return static_cast<int64_t>(*value);
}

struct Lifetime {
  int64_t seconds = 0;
  bool heuristic = false;
};

Lifetime freshnessLifetime(const http::ResponseHead& response, const CacheControl& cc,
                           WallTime date, const PolicyConfig& config) {
  const http::Fields& fields = response.fields;
  if (cc.s_maxage) return {*cc.s_maxage, false};
  if (cc.max_age) return {*cc.max_age, false};
  if (auto expires = fields.get("expires")) {
    // An Expires that does not parse (e.g. "0") means "already expired" (RFC 9111 §5.3).
    // More than one Expires line is treated the same way (§4.2.1).
    auto when = fields.count("expires") == 1 ? http::parseHttpDate(*expires) : std::nullopt;
    if (!when) return {0, false};
    return {std::max<int64_t>(0, secondsBetween(date, *when)), false};
  }
  if (isHeuristicallyCacheable(response.status) || cc.public_) {
    if (auto lm = fields.get("last-modified")) {
      if (auto modified = http::parseHttpDate(*lm)) {
        const int64_t since = secondsBetween(*modified, date);
        if (since > 0) {
          const auto lifetime =
              static_cast<int64_t>(static_cast<double>(since) * config.heuristic_fraction);
          return {std::clamp<int64_t>(lifetime, 0, std::max<int64_t>(0, config.heuristic_cap)),
                  true};
        }
      }
    }
  }
  return {std::max<int64_t>(0, config.default_ttl), false};
}

void fillMeta(ObjectMeta& meta, const http::ResponseHead& response, const CacheControl& cc,
              WallTime request_time, WallTime response_time, const PolicyConfig& config) {
  const http::Fields& fields = response.fields;

  // A response without a valid Date is dated when it arrived (RFC 9110 §6.6.1).
  WallTime date = response_time;
  if (auto text = fields.get("date")) {
    if (auto parsed = http::parseHttpDate(*text)) date = *parsed;
  }

  meta.request_time = request_time;
  meta.response_time = response_time;
  const int64_t apparent_age = std::max<int64_t>(0, secondsBetween(date, response_time));
  const int64_t response_delay = std::max<int64_t>(0, secondsBetween(request_time, response_time));
  const int64_t corrected_age_value = ageValue(fields) + response_delay;
  meta.corrected_initial_age = std::max(apparent_age, corrected_age_value);

  const Lifetime lifetime = freshnessLifetime(response, cc, date, config);
  meta.freshness_lifetime = lifetime.seconds;
  if (config.ttl_cap > 0)
    meta.freshness_lifetime = std::min(meta.freshness_lifetime, config.ttl_cap);
  meta.heuristic_freshness = lifetime.heuristic;

  meta.no_cache = cc.no_cache;
  // s-maxage implies proxy-revalidate for a shared cache (RFC 9111 §5.2.2.10).
  meta.must_revalidate = cc.must_revalidate || cc.proxy_revalidate || cc.s_maxage.has_value();
  meta.stale_while_revalidate = cc.stale_while_revalidate.value_or(0);
  meta.stale_if_error = cc.stale_if_error.value_or(0);

  meta.etag = std::string(fields.get("etag").value_or(""));
  meta.last_modified = std::string(fields.get("last-modified").value_or(""));
  meta.last_modified_time = WallTime{};
  if (!meta.last_modified.empty()) {
    if (auto parsed = http::parseHttpDate(meta.last_modified)) meta.last_modified_time = *parsed;
  }
  meta.vary_names = parseVary(fields);
}

}  // namespace

bool isHeuristicallyCacheable(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

bool isHopByHop(std::string_view name, const http::Fields& connection_fields) {
  return http::isHopByHopField(name) || connection_fields.hasListToken("connection", name);
}

std::string serializeStoredHead(const http::Fields& fields) {
  const http::ConnectionNames connection_names(fields);
  size_t bytes = 0;
  for (const http::Field& field : fields.all()) bytes += field.name.size() + field.value.size() + 4;
  std::string head;
  head.reserve(bytes);  // one allocation: at most every line is kept
  for (const http::Field& field : fields.all()) {
    if (!isNeverStored(field.name, connection_names)) appendStoredLine(head, field);
  }
  return head;
}

void parseStoredHead(std::string_view head, http::Fields& out) {
  forEachStoredField(head, [&out](std::string_view, std::string_view name, std::string_view value) {
    out.add(name, value);
  });
}

ObjectMeta makeObjectMeta(const http::RequestHead& request, const http::ResponseHead& response,
                          WallTime request_time, WallTime response_time,
                          const PolicyConfig& config) {
  return makeObjectMeta(request, response, parseCacheControl(response.fields), request_time,
                        response_time, config);
}

ObjectMeta makeObjectMeta(const http::RequestHead& request, const http::ResponseHead& response,
                          const CacheControl& response_cc, WallTime request_time,
                          WallTime response_time, const PolicyConfig& config) {
  (void)request;  // the policy for this request was decided by decideStore
  ObjectMeta meta;
  meta.status = static_cast<uint16_t>(response.status);
  meta.head = serializeStoredHead(response.fields);
  // RFC 9110 §6.6.1: a response cached without Date gets the time it was received, so every
  // answer from it (and the Age arithmetic of a downstream cache) has one.
  if (!response.fields.has("date")) http::appendDateLine(meta.head, response_time);
  fillMeta(meta, response, response_cc, request_time, response_time, config);
  meta.content_length = response.framing == http::BodyFraming::kContentLength
                            ? static_cast<int64_t>(response.content_length)
                            : -1;
  return meta;
}

int64_t currentAge(const ObjectMeta& meta, WallTime now) {
  const int64_t resident_time = std::max<int64_t>(0, secondsBetween(meta.response_time, now));
  return meta.corrected_initial_age + resident_time;
}

bool notModifiedSelects(const ObjectMeta& meta, const http::ResponseHead& not_modified) {
  if (auto etag = not_modified.fields.get("etag")) {
    // A weak ETag in a 304 cannot select by strong comparison; fall back to equality of the
    // opaque tag, which is what the origin meant by sending it.
    return trimOws(*etag) == meta.etag;
  }
  if (auto lm = not_modified.fields.get("last-modified")) return trimOws(*lm) == meta.last_modified;
  return true;
}

void updateFromNotModified(ObjectMeta& meta, const http::ResponseHead& not_modified,
                           WallTime request_time, WallTime response_time,
                           const PolicyConfig& config) {
  http::Fields stored;
  parseStoredHead(meta.head, stored);
  const http::Fields& fresh = not_modified.fields;
  const http::ConnectionNames fresh_connection_names(fresh);

  // Stored lines not overridden keep their order; the 304's lines follow.
  std::string head;
  for (const http::Field& field : stored.all()) {
    if (!isNeverStored(field.name, fresh_connection_names) && fresh.has(field.name)) continue;
    appendStoredLine(head, field);
  }
  for (const http::Field& field : fresh.all()) {
    if (!isNeverStored(field.name, fresh_connection_names)) appendStoredLine(head, field);
  }
  // A 304 without Date would leave the old Date in place and age the object by its whole
  // stored life; date it on arrival instead (RFC 9110 §6.6.1).
  if (!fresh.has("date")) {
    std::string kept;
    http::Fields merged_once;
    parseStoredHead(head, merged_once);
    for (const http::Field& field : merged_once.all()) {
      if (equalsIgnoreCase(field.name, "date")) continue;
      kept.append(field.name).append(": ").append(field.value).append("\r\n");
    }
    kept.append("Date: ");
    http::appendHttpDate(kept, response_time);
    kept.append("\r\n");
    head = std::move(kept);
  }

  const int64_t content_length = meta.content_length;
  meta.head = std::move(head);
  http::ResponseHead merged;
  merged.status = meta.status;
  parseStoredHead(meta.head, merged.fields);
  // Age is never stored, but the 304's Age counts for the new corrected age.
  if (auto age = fresh.get("age")) merged.fields.add("Age", *age);
  fillMeta(meta, merged, parseCacheControl(merged.fields), request_time, response_time, config);
  meta.content_length = content_length;
}

}  // namespace ec::cache
