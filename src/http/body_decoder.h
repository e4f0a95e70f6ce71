#pragma once
// BodyDecoder: reads a request or response body in the framing the parser decided
// (Content-Length, chunked, close-delimited, none) from the front of a buffer, and hands back
// views of the payload bytes. The chunked reader is a byte-level state machine: it keeps its
// place inside a size line, an extension or a trailer, so any split of the input gives the same
// result. Trailers are validated and dropped, never merged into the head (smuggling).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "http/message.h"
#include "http/parse_error.h"
#include "http/parse_limits.h"

namespace ec::http {

class BodyDecoder {
 public:
  // enforce_max_body: request bodies are bounded by limits.max_body_bytes (413); responses are
  // not (the storage room bounds what it keeps). `source` is who is blamed in returned errors.
  void start(BodyFraming framing, uint64_t content_length, const ParseLimits& limits,
             bool enforce_max_body, ErrorSource source = ErrorSource::kDownstream);

  struct Step {
    size_t consumed = 0;    // bytes of `input` used, framing included
    std::string_view data;  // payload bytes, a view into `input`; may be empty
    bool done = false;      // the body ended; bytes after `consumed` belong to the next message
  };
  // Decodes from the front of `input`: returns at most one span of payload. Call again with the
  // rest while consumed > 0 and !done; when consumed == 0 more input is needed.
  Result<Step> decode(std::string_view input);
  // The peer closed: ends a close-delimited body, anything else unfinished is truncated.
  Result<Step> finishAtEof();

  bool done() const { return state_ == State::kDone; }
  uint64_t bodyBytesSoFar() const { return body_bytes_; }
  // Why the last decode failed (kNone when it did not): the metric label and the status.
  const ParseError& error() const { return error_; }

 private:
  enum class State : uint8_t {
    kLength,        // Content-Length payload
    kUntilClose,    // close-delimited payload
    kSize,          // chunk-size hex digits
    kExtension,     // chunk-ext, up to CR
    kSizeLf,        // the LF after a chunk-size line
    kData,          // chunk payload
    kDataCr,        // the CR after chunk data
    kDataLf,        // the LF after chunk data
    kTrailerStart,  // first byte of a trailer line, or the CR of the final CRLF
    kTrailerName,
    kTrailerValue,
    kTrailerLf,
    kFinalLf,
    kDone,
    kFailed,
  };

  Result<Step> failWith(ParseErrorKind kind, std::string_view detail);
  // Consumes one framing byte of a chunked body; false after recording an error.
  bool advanceChunked(unsigned char c);
  bool setError(ParseErrorKind kind, std::string_view detail);
  Result<Step> lastError() const;

  State state_ = State::kDone;
  ParseLimits limits_;
  bool enforce_max_body_ = false;
  ErrorSource source_ = ErrorSource::kDownstream;
  uint64_t remaining_ = 0;   // payload bytes left in the body (length) or chunk (chunked)
  uint64_t body_bytes_ = 0;  // payload bytes delivered so far
  uint64_t chunk_size_ = 0;
  size_t size_digits_ = 0;
  size_t extension_bytes_ = 0;
  bool ext_quoted_ = false;
  bool ext_escaped_ = false;
  size_t trailer_line_bytes_ = 0;
  size_t trailer_count_ = 0;
  ParseError error_;
};

}  // namespace ec::http
