#pragma once
// RequestParser: a strict, incremental, transport-free RFC 9112 request-head parser. Bytes in,
// a RequestHead out, with framing, authority, keep-alive and Expect already decided, so no
// later phase re-reads those fields. Every ambiguity a smuggling attack needs is refused; the
// choices are in docs/design/http1-parser.md. The body is read by BodyDecoder.

#include <cstddef>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message.h"
#include "http/parse_error.h"
#include "http/parse_limits.h"

namespace ec::http {

class RequestParser {
 public:
  explicit RequestParser(const ParseLimits& limits);

  enum class Status { kNeedMore, kDone, kError };
  // `input` is the whole unconsumed buffer, starting at the same byte on every call until kDone
  // (more bytes appended between calls). Each byte is scanned once, so a head trickled in one
  // byte at a time costs O(n). On kDone `head` holds views into `input` (valid while the caller
  // keeps those bytes) and headBytes() is the length of the head. Limits fire as bytes arrive.
  Status parse(std::string_view input, RequestHead& head);
  size_t headBytes() const { return scanner_.headBytes(); }
  const ParseError& error() const { return error_; }
  // Before the next request on the connection (input then starts after this request's body).
  void reset();

 private:
  Status fail(ParseErrorKind kind, std::string_view detail);
  Status parseRequestLine(std::string_view line, RequestHead& head);
  Status parseTarget(RequestHead& head);
  Status deriveSemantics(RequestHead& head);

  ParseLimits limits_;
  HeadScanner scanner_;
  ParseError error_;
  Status status_ = Status::kNeedMore;
};

// What the parser derives from a head's fields once the request line is read: Host (exactly one,
// valid; the authority unless absolute-form named one), framing (Content-Length,
// Transfer-Encoding, the body limit), Expect and keep-alive. Shared with the HTTP/2 path, which
// builds a RequestHead without text (h2/request_conversion.h); kind kNone when accepted.
ParseError deriveRequestSemantics(RequestHead& head, const ParseLimits& limits);

}  // namespace ec::http
