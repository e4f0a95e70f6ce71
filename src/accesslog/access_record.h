#pragma once
// AccessRecord: one finished transaction as the webrequest log describes it (field names and
// meanings of Wikimedia's webrequest stream, ../shared/reference/wikimedia-traffic.md §4.1),
// and its rendering as one JSON line. The record only holds views: the proxy fills it at the
// end of a transaction from what it still has in hand, and the line is built before those
// views go away. Rendering escapes every byte a client or origin may have sent (quotes,
// backslashes, control bytes, invalid UTF-8) so that each line is one valid JSON object.

#include <cstdint>
#include <string>
#include <string_view>

namespace ec::accesslog {

struct AccessRecord {
  std::string_view hostname;       // this node's name
  uint64_t sequence = 0;           // per-node sequence number (gaps mean lost lines)
  int64_t dt_epoch_seconds = 0;    // response end, wall clock
  double time_firstbyte = 0;       // seconds from the request to the first response byte
  std::string_view ip;             // client address
  std::string_view cache_status;   // X-Cache-Status: hit-front, miss, pass, int-front...
  int http_status = 0;             // 0 when no response head was sent
  uint64_t response_size = 0;      // body bytes sent
  std::string_view http_method;
  std::string_view uri_host;       // request Host (authority)
  std::string_view uri_path;       // target path, without the query
  std::string_view uri_query;      // "?a=b" including the '?', "" when none
  std::string_view content_type;   // response Content-Type
  std::string_view referer;        // request Referer
  std::string_view user_agent;     // request User-Agent
  std::string_view accept_language;
  std::string_view x_analytics;    // response X-Analytics
  std::string_view range;          // request Range
  std::string_view x_cache;        // response X-Cache
  std::string_view accept;         // request Accept
  std::string_view backend;        // response Server (the origin's software)
  // TLS parameters of the client connection ("vers=TLSv1.3;keyx=X25519;...;prot=h2"), filled
  // by the TLS layer; empty on plain HTTP and rendered as "-".
  std::string_view tls;
};

// Longest value, in input bytes, rendered for one string field; longer values are cut (at a
// character boundary) so one hostile header cannot make a line unbounded.
inline constexpr size_t kMaxFieldBytes = 2048;

// Appends the record as one JSON object and a '\n'. Empty string fields render as "-" except
// uri_query, which is "" when the request had none (as varnishkafka's %q).
void appendJsonLine(const AccessRecord& record, std::string& out);

// Appends `value` as a JSON string body (no quotes): '"' and '\\' escaped, control bytes and
// DEL as \uXXXX (\n \r \t \b \f by name), valid UTF-8 copied, each invalid byte as \u00XX.
// At most `max_bytes` input bytes are rendered.
void appendJsonEscaped(std::string_view value, std::string& out, size_t max_bytes = kMaxFieldBytes);

// "2026-11-25T17:44:42Z" for an epoch second (UTC).
void appendIsoTime(int64_t epoch_seconds, std::string& out);

}  // namespace ec::accesslog
