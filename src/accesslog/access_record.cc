#include "accesslog/access_record.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ec::accesslog {
namespace {

constexpr char kHex[] = "0123456789abcdef";


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


// Bytes from `from` that JSON can carry as they are (printable ASCII other than '"' and '\\'),
// sixteen at a time.
size_t plainRun(std::string_view value, size_t from, size_t limit) {
  size_t run = from;
#if defined(__SSE2__)
  const __m128i low = _mm_set1_epi8(0x1f);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i del = _mm_set1_epi8(0x7f);
  while (run + 16 <= limit) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(value.data() + run));
    // Signed compare: bytes >= 0x80 are negative, so "<= 0x1f" also catches them.
    __m128i special = _mm_or_si128(_mm_cmpgt_epi8(low, bytes), _mm_cmpeq_epi8(bytes, low));
    special = _mm_or_si128(special, _mm_cmpeq_epi8(bytes, quote));
    special = _mm_or_si128(special, _mm_cmpeq_epi8(bytes, backslash));
    special = _mm_or_si128(special, _mm_cmpeq_epi8(bytes, del));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return run + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    run += 16;
  }
#endif
  while (run < limit) {
    const auto c = static_cast<unsigned char>(value[run]);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) break;
    ++run;
  }
  return run;
}


}  // namespace

namespace {

// Writes the JSON string content of `value` (at most max_bytes of it, never cutting a UTF-8
// character) at `at`, which has room for 6 bytes per input byte; returns the new end.
char* escapeInto(char* at, std::string_view value, size_t max_bytes) {
  const size_t limit = std::min(value.size(), max_bytes);
  size_t i = 0;
  auto put2 = [&](char a, char b) { at[0] = a; at[1] = b; at += 2; };
  while (i < limit) {
    // Copy the longest run that needs no escaping at once.
    const size_t run = plainRun(value, i, limit);
    if (run > i) {
      std::memcpy(at, value.data() + i, run - i);
      at += run - i;
      i = run;
      continue;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    switch (c) {
      case '"': put2('\\', '"'); ++i; continue;
      case '\\': put2('\\', '\\'); ++i; continue;
      case '\n': put2('\\', 'n'); ++i; continue;
      case '\r': put2('\\', 'r'); ++i; continue;
      case '\t': put2('\\', 't'); ++i; continue;
      case '\b': put2('\\', 'b'); ++i; continue;
      case '\f': put2('\\', 'f'); ++i; continue;
      default: break;
    }
    if (c >= 0x80) {
      const size_t length = utf8SequenceLength(value, i);
      if (length != 0) {
        if (i + length > limit) break;  // never cut a character in two
        std::memcpy(at, value.data() + i, length);
        at += length;
        i += length;
        continue;
      }
    }
    // A control byte, DEL, or a byte that is not UTF-8.
    const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
    std::memcpy(at, escape, sizeof escape);
    at += sizeof escape;
    ++i;
  }
  return at;
}

// The line is written into memory sized beforehand for the worst case, piece by piece with
// plain stores: no capacity check or call per piece.
struct LineWriter {
  char* at;
  void put(std::string_view text) {
    std::memcpy(at, text.data(), text.size());
    at += text.size();
  }
  void put(char c) { *at++ = c; }
  void unsignedNumber(uint64_t value) { at = std::to_chars(at, at + 24, value).ptr; }
  // `prefix` is the whole `,"key":"` text.
  void stringField(std::string_view prefix, std::string_view value, bool dash_when_empty = true) {
    put(prefix);
    if (value.empty() && dash_when_empty) put('-');
    else at = escapeInto(at, value, kMaxFieldBytes);
    put('"');
  }
};

size_t escapedBound(std::string_view value) { return 6 * std::min(value.size(), kMaxFieldBytes) + 1; }

}  // namespace

void appendJsonEscaped(std::string_view value, std::string& out, size_t max_bytes) {
  const size_t start = out.size();
  out.resize(start + 6 * std::min(value.size(), max_bytes));
  char* end = escapeInto(out.data() + start, value, max_bytes);
  out.resize(static_cast<size_t>(end - out.data()));
}

namespace {
// One conversion per second and thread: consecutive lines share their second.
std::string_view isoTime(int64_t epoch_seconds) {
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
  return {cached, cached_length};
}
}  // namespace

void appendIsoTime(int64_t epoch_seconds, std::string& out) { out.append(isoTime(epoch_seconds)); }

void appendJsonLine(const AccessRecord& record, std::string& out) {
  const std::string_view hostname = record.hostname.empty() ? std::string_view("-") : record.hostname;
  const std::string_view strings[] = {
      hostname, record.ip, record.cache_status, record.http_method, record.uri_host,
      record.uri_path, record.uri_query, record.content_type, record.referer, record.user_agent,
      record.accept_language, record.x_analytics, record.range, record.x_cache, record.accept,
      record.backend, record.tls};
  size_t bound = 512;  // keys, punctuation, numbers and the time
  for (std::string_view value : strings) bound += escapedBound(value);
  const size_t start = out.size();
  out.resize(start + bound);
  LineWriter w{out.data() + start};

  w.put(R"({"hostname":")");
  w.at = escapeInto(w.at, hostname, kMaxFieldBytes);
  w.put(R"(","sequence":)");
  w.unsignedNumber(record.sequence);
  w.put(R"(,"dt":")");
  w.put(isoTime(record.dt_epoch_seconds));
  w.put(R"(","time_firstbyte":)");
  const double ttfb = record.time_firstbyte > 0 ? record.time_firstbyte : 0.0;
  // Same digits as printf's "%.6f", without its format parsing and locale.
  w.at = std::to_chars(w.at, w.at + 64, ttfb, std::chars_format::fixed, 6).ptr;
  w.stringField(R"(,"ip":")", record.ip);
  w.stringField(R"(,"cache_status":")", record.cache_status);
  w.put(R"(,"http_status":)");
  w.unsignedNumber(static_cast<uint64_t>(record.http_status > 0 ? record.http_status : 0));
  w.put(R"(,"response_size":)");
  w.unsignedNumber(record.response_size);
  w.stringField(R"(,"http_method":")", record.http_method);
  w.stringField(R"(,"uri_host":")", record.uri_host);
  w.stringField(R"(,"uri_path":")", record.uri_path);
  w.stringField(R"(,"uri_query":")", record.uri_query, false);
  w.stringField(R"(,"content_type":")", record.content_type);
  w.stringField(R"(,"referer":")", record.referer);
  w.stringField(R"(,"user_agent":")", record.user_agent);
  w.stringField(R"(,"accept_language":")", record.accept_language);
  w.stringField(R"(,"x_analytics":")", record.x_analytics);
  w.stringField(R"(,"range":")", record.range);
  w.stringField(R"(,"x_cache":")", record.x_cache);
  w.stringField(R"(,"accept":")", record.accept);
  w.stringField(R"(,"backend":")", record.backend);
  w.stringField(R"(,"tls":")", record.tls);
  w.put("}\n");
  out.resize(static_cast<size_t>(w.at - out.data()));
}

}  // namespace ec::accesslog
