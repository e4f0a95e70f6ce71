#include "purge/kafka_event.h"

// rapidjson: header-only, no exceptions (errors are return values), parses in one pass.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace ec::purge {
namespace {

Error badEvent(std::string why) { return Error::downstream(ErrorKind::kParse, std::move(why)); }

bool digits(std::string_view text, size_t at, size_t count, int* out) {
  if (at + count > text.size()) return false;
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

std::optional<int64_t> parseIso8601Millis(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!digits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' ||
      !digits(text, 5, 2, &month) || text[7] != '-' || !digits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, &hour) ||
      text[13] != ':' || !digits(text, 14, 2, &minute) || text[16] != ':' ||
      !digits(text, 17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t millis = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int64_t scale = 100;
    const size_t start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return std::nullopt;
  }
  int64_t offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int oh, om;
    if (!digits(text, at + 1, 2, &oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;  // RFC 3339 requires an offset
  }
  if (at != text.size()) return std::nullopt;
  const int64_t days = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

Result<PurgeEvent> decodePurgeEvent(std::string_view json) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseStopWhenDoneFlag>(json.data(), json.size());
  if (document.HasParseError()) {
    return fail(badEvent(std::string("not JSON: ") + rapidjson::GetParseError_En(document.GetParseError())));
  }
  if (!document.IsObject()) return fail(badEvent("not a JSON object"));
  const rapidjson::Value* meta = member(document, "meta");
  const rapidjson::Value* uri = meta ? member(*meta, "uri") : nullptr;
  if (uri == nullptr || !uri->IsString()) return fail(badEvent("no meta.uri string"));
  PurgeEvent event;
  event.uri.assign(uri->GetString(), uri->GetStringLength());
  // The age of a purge is that of the edit that caused it: root_event.dt, else meta.dt.
  const rapidjson::Value* root = member(document, "root_event");
  const rapidjson::Value* dt = root ? member(*root, "dt") : nullptr;
  if (dt == nullptr) dt = member(*meta, "dt");
  if (dt != nullptr) {
    if (!dt->IsString()) return fail(badEvent("dt is not a string"));
    event.event_time_ms = parseIso8601Millis(std::string_view(dt->GetString(), dt->GetStringLength()));
    if (!event.event_time_ms) return fail(badEvent("dt is not an ISO-8601 time"));
  }
  if (const rapidjson::Value* tags = member(document, "tags"); tags && tags->IsArray()) {
    for (const auto& tag : tags->GetArray()) {
      if (tag.IsString()) event.tags.emplace_back(tag.GetString(), tag.GetStringLength());
    }
  }
  return event;
}

}  // namespace ec::purge
