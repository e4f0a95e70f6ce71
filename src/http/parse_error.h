#pragma once
// ParseErrorKind: every distinct reason the HTTP/1.1 codec refuses a message, the status a
// request refused for it receives, and the snake_case name used as a metric label
// (edgecache_http_parse_errors_total{kind="..."}). Response-side kinds become a 502 in the proxy.

#include <cstdint>
#include <string_view>

namespace ec::http {

enum class ParseErrorKind : uint8_t {
  kNone,
  // Request line / status line.
  kBadRequestLine,
  kBadMethod,
  kUnsupportedMethod,  // CONNECT: we are not a forward proxy (501)
  kBadTarget,
  kUriTooLong,          // 414
  kBadVersion,          // malformed HTTP-version (400)
  kUnsupportedVersion,  // well-formed but not 1.0/1.1, e.g. HTTP/2.0 on a text connection (505)
  kBadStatusLine,
  kUnsupportedStatus,  // 101 Switching Protocols: upgrades are not supported
  // Lines and fields.
  kBadLineEnding,  // bare LF, or a CR not followed by LF
  kObsFold,
  kBadFieldName,
  kBadFieldValue,
  kFieldTooLarge,   // 431
  kTooManyFields,   // 431
  kHeaderTooLarge,  // 431
  kMissingHost,
  kBadHost,
  kDuplicateHost,
  kExpectationFailed,  // 417
  // Framing.
  kBadContentLength,
  kConflictingContentLength,
  kConflictingFraming,  // Content-Length and Transfer-Encoding on a request
  kBadTransferEncoding,
  kUnsupportedTransferCoding,  // 501
  kTeInHttp10,
  kBodyTooLarge,  // 413
  // Chunked body.
  kBadChunkSize,
  kBadChunkExtension,
  kChunkExtensionTooLong,
  kBadChunkData,
  kBadTrailer,
  kTruncatedBody,  // the peer closed before the framing said the body ends
};

// The status a client receives for a request refused with `kind`: 400, 413, 414, 417, 431, 501
// or 505.
int statusForParseError(ParseErrorKind kind);
// snake_case name, e.g. "bad_content_length"; stable, used as a metric label.
const char* parseErrorName(ParseErrorKind kind);

struct ParseError {
  ParseErrorKind kind = ParseErrorKind::kNone;
  std::string_view detail;  // always a string literal: safe to keep after the input is gone
};

}  // namespace ec::http
