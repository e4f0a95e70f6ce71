#pragma once
// ResponseParser: the origin-side twin of RequestParser. Strict where a response could split or
// smuggle (CR/LF/NUL in values, obs-fold, invalid Content-Length), and decides framing per RFC
// 9112 §6.3 given the request method: HEAD, 1xx, 204 and 304 have no body whatever they say; a
// Transfer-Encoding wins over Content-Length (which is then removed from the fields and the
// connection is not reused); no length at all means close-delimited. Errors become a 502.

#include <cstddef>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message.h"
#include "http/parse_error.h"
#include "http/parse_limits.h"

namespace ec::http {

class ResponseParser {
 public:
  explicit ResponseParser(const ParseLimits& limits);

  enum class Status { kNeedMore, kDone, kError };
  // Same contract as RequestParser::parse. 1xx heads (100..199 except 101, which is refused)
  // are returned with framing kNone: the caller skips them, calls reset() and parses the bytes
  // after headBytes() again.
  Status parse(std::string_view input, Method request_method, ResponseHead& head);
  size_t headBytes() const { return scanner_.headBytes(); }
  const ParseError& error() const { return error_; }
  void reset();

 private:
  Status fail(ParseErrorKind kind, std::string_view detail);
  Status parseStatusLine(std::string_view line, ResponseHead& head);
  Status deriveFraming(Method request_method, ResponseHead& head);

  ParseLimits limits_;
  HeadScanner scanner_;
  ParseError error_;
  Status status_ = Status::kNeedMore;
};

}  // namespace ec::http
