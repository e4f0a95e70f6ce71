#include "accesslog/access_record.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace ec::accesslog {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void appendUnicodeEscape(unsigned char byte, std::string& out) {
  const char escape[6] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xf]};
  out.append(escape, sizeof escape);
}

bool isContinuation(unsigned char byte) { return (byte & 0xc0) == 0x80; }

// Length of the valid UTF-8 sequence starting at value[i] (2..4), or 0 when it is not one.
size_t utf8SequenceLength(std::string_view value, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(value[i + k]); };
  const unsigned char lead = at(0);
  size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;   // overlong
    if (lead == 0xed) second_max = 0x9f;   // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;   // overlong
    if (lead == 0xf4) second_max = 0x8f;   // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > value.size()) return 0;
  if (at(1) < second_min || at(1) > second_max) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (!isContinuation(at(k))) return 0;
  }
  return length;
}

void appendStringField(std::string& out, std::string_view key, std::string_view value,
                       bool dash_when_empty = true) {
  out += ",\"";
  out += key;
  out += "\":\"";
  if (value.empty() && dash_when_empty) {
    out += '-';
  } else {
    appendJsonEscaped(value, out);
  }
  out += '"';
}

void appendUnsigned(std::string& out, uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

}  // namespace

void appendJsonEscaped(std::string_view value, std::string& out, size_t max_bytes) {
  const size_t limit = std::min(value.size(), max_bytes);
  size_t i = 0;
  while (i < limit) {
    // Copy the longest run that needs no escaping in one append.
    size_t run = i;
    while (run < limit) {
      const auto c = static_cast<unsigned char>(value[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) break;
      ++run;
    }
    if (run > i) {
      out.append(value.data() + i, run - i);
      i = run;
      continue;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (c >= 0x80) {
      const size_t length = utf8SequenceLength(value, i);
      if (length != 0) {
        if (i + length > limit) break;  // never cut a character in two
        out.append(value.data() + i, length);
        i += length;
        continue;
      }
    }
    appendUnicodeEscape(c, out);  // control byte, DEL, or a byte that is not UTF-8
    ++i;
  }
}

void appendIsoTime(int64_t epoch_seconds, std::string& out) {
  // One conversion per second and thread: consecutive lines share their second.
  thread_local int64_t cached_second = -1;
  thread_local char cached[24];
  thread_local size_t cached_length = 0;
  if (epoch_seconds != cached_second) {
    const std::time_t seconds = static_cast<std::time_t>(epoch_seconds);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    cached_length = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%SZ", &utc);
    cached_second = epoch_seconds;
  }
  out.append(cached, cached_length);
}

void appendJsonLine(const AccessRecord& record, std::string& out) {
  out += "{\"hostname\":\"";
  appendJsonEscaped(record.hostname.empty() ? std::string_view("-") : record.hostname, out);
  out += "\",\"sequence\":";
  appendUnsigned(out, record.sequence);
  out += ",\"dt\":\"";
  appendIsoTime(record.dt_epoch_seconds, out);
  out += "\",\"time_firstbyte\":";
  char number[32];
  const double ttfb = record.time_firstbyte > 0 ? record.time_firstbyte : 0.0;
  const int n = std::snprintf(number, sizeof number, "%.6f", ttfb);
  out.append(number, static_cast<size_t>(n));
  appendStringField(out, "ip", record.ip);
  appendStringField(out, "cache_status", record.cache_status);
  out += ",\"http_status\":";
  appendUnsigned(out, static_cast<uint64_t>(record.http_status > 0 ? record.http_status : 0));
  out += ",\"response_size\":";
  appendUnsigned(out, record.response_size);
  appendStringField(out, "http_method", record.http_method);
  appendStringField(out, "uri_host", record.uri_host);
  appendStringField(out, "uri_path", record.uri_path);
  appendStringField(out, "uri_query", record.uri_query, false);
  appendStringField(out, "content_type", record.content_type);
  appendStringField(out, "referer", record.referer);
  appendStringField(out, "user_agent", record.user_agent);
  appendStringField(out, "accept_language", record.accept_language);
  appendStringField(out, "x_analytics", record.x_analytics);
  appendStringField(out, "range", record.range);
  appendStringField(out, "x_cache", record.x_cache);
  appendStringField(out, "accept", record.accept);
  appendStringField(out, "backend", record.backend);
  appendStringField(out, "tls", record.tls);
  out += "}\n";
}

}  // namespace ec::accesslog
