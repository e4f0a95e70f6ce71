#include "http/response_parser.h"

#include "base/strings.h"
#include "http/syntax.h"

namespace ec::http {

ResponseParser::ResponseParser(const ParseLimits& limits) : limits_(limits) {}

void ResponseParser::reset() {
  scanner_.reset();
  error_ = {};
  status_ = Status::kNeedMore;
}

ResponseParser::Status ResponseParser::fail(ParseErrorKind kind, std::string_view detail) {
  error_ = {kind, detail};
  status_ = Status::kError;
  return status_;
}

ResponseParser::Status ResponseParser::parse(std::string_view input, Method request_method,
                                             ResponseHead& head) {
  if (status_ != Status::kNeedMore) return status_;
  // The status line shares the request-line bound; past it the head is simply too large.
  const HeadScanner::StartLineRules rules{limits_.max_request_line, ParseErrorKind::kHeaderTooLarge,
                                          ParseErrorKind::kBadStatusLine, false};
  switch (scanner_.scan(input, limits_, rules)) {
    case HeadScanner::Status::kNeedMore: return Status::kNeedMore;
    case HeadScanner::Status::kError: return fail(scanner_.error().kind, scanner_.error().detail);
    case HeadScanner::Status::kDone: break;
  }
  head.clear();
  if (parseStatusLine(scanner_.startLine(input), head) == Status::kError) return status_;
  scanner_.fillFields(input, head.fields);
  if (deriveFraming(request_method, head) == Status::kError) return status_;
  status_ = Status::kDone;
  return status_;
}

ResponseParser::Status ResponseParser::parseStatusLine(std::string_view line, ResponseHead& head) {
  // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ] (RFC 9112 §4). The second SP is
  // tolerated when absent: many origins send "HTTP/1.1 200" and nothing depends on the reason.
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !isDigit(line[5]) || line[6] != '.' ||
      !isDigit(line[7]) || line[8] != ' ') {
    return fail(ParseErrorKind::kBadStatusLine, "malformed status line");
  }
  if (line[5] == '1' && line[7] == '1') {
    head.version = Version::kHttp11;
  } else if (line[5] == '1' && line[7] == '0') {
    head.version = Version::kHttp10;
  } else {
    return fail(ParseErrorKind::kUnsupportedVersion, "response version not supported");
  }
  const std::string_view code = line.substr(9, 3);
  if (!isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2])) {
    return fail(ParseErrorKind::kBadStatusLine, "status code is not three digits");
  }
  head.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (head.status < 100 || head.status > 599) {
    return fail(ParseErrorKind::kBadStatusLine, "status code out of range");
  }
  if (head.status == 101) {
    return fail(ParseErrorKind::kUnsupportedStatus, "protocol upgrades are not supported");
  }
  if (line.size() > 12) {
    if (line[12] != ' ') return fail(ParseErrorKind::kBadStatusLine, "no SP after status code");
    head.reason = line.substr(13);
    for (char c : head.reason) {
      if (!isFieldValueByte(static_cast<unsigned char>(c))) {
        return fail(ParseErrorKind::kBadStatusLine, "control byte in reason phrase");
      }
    }
  }
  return Status::kDone;
}

ResponseParser::Status ResponseParser::deriveFraming(Method request_method, ResponseHead& head) {
  Fields& fields = head.fields;
  const bool http11 = head.version == Version::kHttp11;
  head.keep_alive = http11 ? !fields.hasListToken("connection", "close")
                           : fields.hasListToken("connection", "keep-alive") &&
                                 !fields.hasListToken("connection", "close");
  if (head.status < 200) return Status::kDone;  // 1xx: no content, framing fields meaningless

  const ContentLength length = readContentLength(fields);
  const TransferCoding coding = readTransferCoding(fields);
  const bool bodiless = request_method == Method::kHead || head.status == 204 || head.status == 304;
  if (bodiless) {
    // The proxy forwards these fields to the client (a HEAD answer carries the GET length), so an
    // invalid one is still refused rather than passed on.
    if (coding == TransferCoding::kAbsent && length.state == ContentLength::State::kInvalid) {
      return fail(ParseErrorKind::kBadContentLength, "invalid Content-Length");
    }
    if (coding == TransferCoding::kAbsent && length.state == ContentLength::State::kConflicting) {
      return fail(ParseErrorKind::kConflictingContentLength, "differing Content-Length values");
    }
    return Status::kDone;
  }

  if (coding != TransferCoding::kAbsent) {
    switch (coding) {
      case TransferCoding::kChunked: break;
      case TransferCoding::kUnknownCoding:
      case TransferCoding::kUnsupported:
        return fail(ParseErrorKind::kUnsupportedTransferCoding, "transfer coding not supported");
      default: return fail(ParseErrorKind::kBadTransferEncoding, "invalid Transfer-Encoding");
    }
    head.framing = BodyFraming::kChunked;
    // RFC 9112 §6.1/§6.3 item 3: chunked wins, Content-Length is dropped so nobody forwards both,
    // and the connection is closed after this response. An HTTP/1.0 sender of chunked is
    // suspect too (§6.1).
    if (length.state != ContentLength::State::kAbsent) {
      fields.remove("content-length");
      head.keep_alive = false;
    }
    if (!http11) head.keep_alive = false;
    return Status::kDone;
  }
  switch (length.state) {
    case ContentLength::State::kInvalid:
      return fail(ParseErrorKind::kBadContentLength, "invalid Content-Length");
    case ContentLength::State::kConflicting:
      return fail(ParseErrorKind::kConflictingContentLength, "differing Content-Length values");
    case ContentLength::State::kValid:
      head.framing = BodyFraming::kContentLength;
      head.content_length = length.value;
      break;
    case ContentLength::State::kAbsent:
      head.framing = BodyFraming::kCloseDelimited;
      head.keep_alive = false;
      break;
  }
  return Status::kDone;
}

}  // namespace ec::http
