#include "http/head_scanner.h"

#include <cstring>

#include "base/check.h"
#include "http/syntax.h"

namespace ec::http {

void HeadScanner::reset() {
  in_fields_ = false;
  skipped_crlf_ = false;
  line_start_ = 0;
  scan_pos_ = 0;
  head_bytes_ = 0;
  start_line_ = {};
  fields_.clear();  // keeps capacity: a keep-alive connection reuses it
  error_ = {};
}

HeadScanner::Status HeadScanner::fail(ParseErrorKind kind, std::string_view detail) {
  error_ = {kind, detail};
  return Status::kError;
}

HeadScanner::Status HeadScanner::checkLimitsUpTo(std::string_view input, size_t upto,
                                                 const ParseLimits& limits,
                                                 const StartLineRules& rules) {
  // The decision must not depend on how the bytes were split into calls, so instead of testing
  // the current state we find the first buffer length at which each limit is exceeded and
  // report the earliest one that `upto` bytes reach (the line limit first on a tie).
  // A line is too long once its content (not counting a CR that may start its CRLF) passes the
  // limit: at length s+max+1, or one byte later when byte s+max is a CR.
  const size_t max_line = in_fields_ ? limits.max_field_size : rules.max_length;
  size_t line_cross = line_start_ + max_line + 1;
  if (line_cross <= upto && input[line_cross - 1] == '\r') ++line_cross;
  const size_t header_cross = limits.max_header_bytes + 1;
  if (line_cross <= upto && line_cross <= header_cross) {
    return in_fields_ ? fail(ParseErrorKind::kFieldTooLarge, "field line too long")
                      : fail(rules.too_long, "start line too long");
  }
  if (header_cross <= upto)
    return fail(ParseErrorKind::kHeaderTooLarge, "header section too large");
  return Status::kNeedMore;
}


HeadScanner::Status HeadScanner::takeFieldLine(std::string_view input, size_t begin, size_t end,
                                               const ParseLimits& limits) {
  const std::string_view line = input.substr(begin, end - begin);
  const bool clean = !hasControlBytes(line);
  if (!clean && line.find('\r') != std::string_view::npos) {
    return fail(ParseErrorKind::kBadLineEnding, "bare CR inside a line");
  }
  if (line.size() > limits.max_field_size) {
    return fail(ParseErrorKind::kFieldTooLarge, "field line too long");
  }
  if (line.front() == ' ' || line.front() == '\t') {
    return fail(ParseErrorKind::kObsFold, "line folding (obs-fold) or leading whitespace");
  }
  size_t colon = 0;
  while (colon < line.size() && isTokenChar(static_cast<unsigned char>(line[colon]))) ++colon;
  if (colon == line.size()) return fail(ParseErrorKind::kBadFieldName, "field line without colon");
  if (line[colon] != ':') {
    // Covers "Name : v" (space before the colon must be refused, RFC 9112 §5.1), "Foo@:",
    // "Transfer_Encoding" is a token so it passes as an opaque field, as it should.
    return fail(ParseErrorKind::kBadFieldName, "invalid byte in field name");
  }
  if (colon == 0) return fail(ParseErrorKind::kBadFieldName, "empty field name");
  size_t value_begin = colon + 1;
  size_t value_end = line.size();
  for (size_t i = value_begin; !clean && i < value_end; ++i) {
    if (!isFieldValueByte(static_cast<unsigned char>(line[i]))) {
      return fail(ParseErrorKind::kBadFieldValue, "control byte in field value");
    }
  }
  while (value_begin < value_end && (line[value_begin] == ' ' || line[value_begin] == '\t')) {
    ++value_begin;
  }
  while (value_end > value_begin && (line[value_end - 1] == ' ' || line[value_end - 1] == '\t')) {
    --value_end;
  }
  if (fields_.size() >= limits.max_field_count) {
    return fail(ParseErrorKind::kTooManyFields, "too many fields");
  }
  // A fresh scanner (an origin exchange gets one per response) would otherwise grow its spans
  // through 1, 2, 4, 8, 16: one allocation for a typical head instead of five.
  constexpr size_t kTypicalFieldCount = 24;
  if (fields_.capacity() == 0) fields_.reserve(kTypicalFieldCount);
  fields_.push_back({{begin, colon}, {begin + value_begin, value_end - value_begin}});
  return Status::kNeedMore;
}

HeadScanner::Status HeadScanner::scan(std::string_view input, const ParseLimits& limits,
                                      const StartLineRules& rules) {
  if (error_.kind != ParseErrorKind::kNone) return Status::kError;
  if (head_bytes_ != 0) return Status::kDone;
  EC_DCHECK(scan_pos_ <= input.size());  // the caller must only ever append
  while (true) {
    const void* found = std::memchr(input.data() + scan_pos_, '\n', input.size() - scan_pos_);
    if (found == nullptr) {
      scan_pos_ = input.size();
      return checkLimitsUpTo(input, input.size(), limits, rules);
    }
    const size_t lf = static_cast<size_t>(static_cast<const char*>(found) - input.data());
    scan_pos_ = lf + 1;
    // First what a caller feeding the bytes before this LF would already have been told.
    if (checkLimitsUpTo(input, lf, limits, rules) == Status::kError) return Status::kError;
    if (lf + 1 > limits.max_header_bytes) {
      return fail(ParseErrorKind::kHeaderTooLarge, "header section too large");
    }
    if (lf == line_start_ || input[lf - 1] != '\r') {
      return fail(ParseErrorKind::kBadLineEnding, "bare LF line ending");
    }
    const size_t begin = line_start_;
    const size_t end = lf - 1;  // excludes CRLF
    line_start_ = lf + 1;
    // A bare CR in a field line is found by takeFieldLine's control-byte check.
    if (!in_fields_ && std::memchr(input.data() + begin, '\r', end - begin) != nullptr) {
      return fail(ParseErrorKind::kBadLineEnding, "bare CR inside a line");
    }
    if (!in_fields_) {
      if (begin == end) {
        if (rules.skip_one_leading_crlf && !skipped_crlf_) {
          skipped_crlf_ = true;
          continue;
        }
        return fail(rules.malformed, "empty line before the start line");
      }
      if (end - begin > rules.max_length) return fail(rules.too_long, "start line too long");
      start_line_ = {begin, end - begin};
      in_fields_ = true;
      continue;
    }
    if (begin == end) {
      head_bytes_ = lf + 1;
      return Status::kDone;
    }
    if (Status status = takeFieldLine(input, begin, end, limits); status == Status::kError) {
      return status;
    }
  }
}

void HeadScanner::fillFields(std::string_view input, Fields& fields) const {
  fields.clear();
  fields.reserve(fields_.size());
  for (const FieldSpan& span : fields_) {
    fields.add(input.substr(span.name.offset, span.name.length),
               input.substr(span.value.offset, span.value.length));
  }
}

bool HeadLimits::line(size_t length, size_t max, ParseErrorKind too_long) {
  // scan() at this line's LF (see checkLimitsUpTo): a line whose content passes `max` is
  // reported when its crossing byte is within the header limit; otherwise the header section
  // is too large once the bytes through the LF pass max_header_bytes.
  const size_t begin = at_;
  at_ = begin + length + 2;
  const size_t header = limits_.max_header_bytes;
  if (length > max && begin + max <= header) {
    return fail(too_long, too_long == ParseErrorKind::kFieldTooLarge ? "field line too long"
                                                                     : "start line too long");
  }
  if (at_ > header) return fail(ParseErrorKind::kHeaderTooLarge, "header section too large");
  return true;
}

bool HeadLimits::fieldLine(size_t length) {
  if (!line(length, limits_.max_field_size, ParseErrorKind::kFieldTooLarge)) return false;
  if (fields_ >= limits_.max_field_count) return fail(ParseErrorKind::kTooManyFields, "too many fields");
  ++fields_;
  return true;
}

bool HeadLimits::end() {
  at_ += 2;
  if (at_ > limits_.max_header_bytes) {
    return fail(ParseErrorKind::kHeaderTooLarge, "header section too large");
  }
  return true;
}

}  // namespace ec::http
