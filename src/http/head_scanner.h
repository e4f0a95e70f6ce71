#pragma once
// HeadScanner: the line layer shared by RequestParser and ResponseParser. It finds CRLF-ended
// lines in a growing buffer, enforces the size limits as bytes arrive, validates each field
// line (token name, colon, value bytes) and remembers offsets rather than views, because the
// caller's buffer may move between calls. Semantics (Host, framing) belong to the parsers.

#include <cstddef>
#include <string_view>
#include <vector>

#include "http/fields.h"
#include "http/parse_error.h"
#include "http/parse_limits.h"

namespace ec::http {

class HeadScanner {
 public:
  enum class Status { kNeedMore, kDone, kError };

  struct StartLineRules {
    size_t max_length;           // longest start line, CRLF excluded
    ParseErrorKind too_long;     // kind reported past that length
    ParseErrorKind malformed;    // kind reported for an empty start line
    bool skip_one_leading_crlf;  // requests: RFC 9112 §2.2 lets a server ignore one empty line
  };

  // `input` starts at the same byte on every call until kDone or kError.
  Status scan(std::string_view input, const ParseLimits& limits, const StartLineRules& rules);
  void reset();

  // Valid after kDone, against the same input (offsets, not views).
  std::string_view startLine(std::string_view input) const {
    return input.substr(start_line_.offset, start_line_.length);
  }
  void fillFields(std::string_view input, Fields& fields) const;
  size_t headBytes() const { return head_bytes_; }

  const ParseError& error() const { return error_; }

 private:
  struct Span {
    size_t offset = 0;
    size_t length = 0;
  };
  struct FieldSpan {
    Span name;
    Span value;
  };

  Status fail(ParseErrorKind kind, std::string_view detail);
  // Reports the first limit a buffer of `upto` bytes exceeds, if any (see the .cc).
  Status checkLimitsUpTo(std::string_view input, size_t upto, const ParseLimits& limits,
                         const StartLineRules& rules);
  Status takeFieldLine(std::string_view input, size_t begin, size_t end, const ParseLimits& limits);

  bool in_fields_ = false;
  bool skipped_crlf_ = false;
  size_t line_start_ = 0;  // first byte of the line being scanned
  size_t scan_pos_ = 0;    // bytes before this hold no LF past line_start_
  size_t head_bytes_ = 0;
  Span start_line_;
  std::vector<FieldSpan> fields_;
  ParseError error_;
};

// The size-limit decisions scan() makes, for a head whose lines are known without its text (an
// HTTP/2 request built straight into a RequestHead, h2/request_conversion): feed the start line,
// then each field line (content lengths, CRLF excluded), then end(). The first limit crossed is
// reported with the kind and the order scan() reports it in (a line over its limit before the
// header section, on a tie too; the field count after a line's size). Tests keep the two in step.
class HeadLimits {
 public:
  HeadLimits(const ParseLimits& limits, const HeadScanner::StartLineRules& rules)
      : limits_(limits), rules_(rules) {}
  bool startLine(size_t length) { return line(length, rules_.max_length, rules_.too_long); }
  bool fieldLine(size_t length);
  bool end();  // the blank line
  const ParseError& error() const { return error_; }

 private:
  bool line(size_t length, size_t max, ParseErrorKind too_long);
  bool fail(ParseErrorKind kind, std::string_view detail) {
    error_ = {kind, detail};
    return false;
  }

  const ParseLimits& limits_;
  HeadScanner::StartLineRules rules_;
  size_t at_ = 0;  // head bytes before the next line
  size_t fields_ = 0;
  ParseError error_;
};

}  // namespace ec::http
