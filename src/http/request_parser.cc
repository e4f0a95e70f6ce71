#include "http/request_parser.h"

#include "base/strings.h"
#include "http/syntax.h"

namespace ec::http {
namespace {

enum class VersionSyntax { kHttp10, kHttp11, kUnsupported, kMalformed };

// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
VersionSyntax readVersion(std::string_view text) {
  if (text.size() != 8 || text.substr(0, 5) != "HTTP/" || !isDigit(text[5]) || text[6] != '.' ||
      !isDigit(text[7])) {
    return VersionSyntax::kMalformed;
  }
  if (text[5] == '1' && text[7] == '1') return VersionSyntax::kHttp11;
  if (text[5] == '1' && text[7] == '0') return VersionSyntax::kHttp10;
  return VersionSyntax::kUnsupported;
}

}  // namespace

RequestParser::RequestParser(const ParseLimits& limits) : limits_(limits) {}

void RequestParser::reset() {
  scanner_.reset();
  error_ = {};
  status_ = Status::kNeedMore;
}

RequestParser::Status RequestParser::fail(ParseErrorKind kind, std::string_view detail) {
  error_ = {kind, detail};
  status_ = Status::kError;
  return status_;
}

RequestParser::Status RequestParser::parse(std::string_view input, RequestHead& head) {
  if (status_ != Status::kNeedMore) return status_;
  const HeadScanner::StartLineRules rules{limits_.max_request_line, ParseErrorKind::kUriTooLong,
                                          ParseErrorKind::kBadRequestLine, true};
  switch (scanner_.scan(input, limits_, rules)) {
    case HeadScanner::Status::kNeedMore: return Status::kNeedMore;
    case HeadScanner::Status::kError: return fail(scanner_.error().kind, scanner_.error().detail);
    case HeadScanner::Status::kDone: break;
  }
  head.clear();
  if (parseRequestLine(scanner_.startLine(input), head) == Status::kError) return status_;
  scanner_.fillFields(input, head.fields);
  if (deriveSemantics(head) == Status::kError) return status_;
  status_ = Status::kDone;
  return status_;
}

RequestParser::Status RequestParser::parseRequestLine(std::string_view line, RequestHead& head) {
  // request-line = method SP request-target SP HTTP-version, single SPs only (RFC 9112 §3).
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) {
    return fail(ParseErrorKind::kBadRequestLine, "request line needs method, target and version");
  }
  if (line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(ParseErrorKind::kBadRequestLine, "extra whitespace in request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || target.empty() || version.empty()) {
    return fail(ParseErrorKind::kBadRequestLine, "empty request line element");
  }
  if (!isToken(method)) return fail(ParseErrorKind::kBadMethod, "method is not a token");
  switch (readVersion(version)) {
    case VersionSyntax::kHttp10: head.version = Version::kHttp10; break;
    case VersionSyntax::kHttp11: head.version = Version::kHttp11; break;
    case VersionSyntax::kUnsupported:
      return fail(ParseErrorKind::kUnsupportedVersion, "HTTP version not supported");
    case VersionSyntax::kMalformed: return fail(ParseErrorKind::kBadVersion, "malformed version");
  }
  head.method_text = method;
  head.method = methodFromToken(method);
  if (head.method == Method::kConnect) {
    return fail(ParseErrorKind::kUnsupportedMethod, "CONNECT: not a forward proxy");
  }
  head.target = target;
  return parseTarget(head);
}

RequestParser::Status RequestParser::parseTarget(RequestHead& head) {
  const std::string_view target = head.target;
  if (hasNonTargetBytes(target)) {
    return fail(ParseErrorKind::kBadTarget, "invalid byte in request target");
  }
  if (target.front() == '/') {
    head.target_form = TargetForm::kOrigin;
    head.path = target;
    return Status::kDone;
  }
  if (target == "*") {
    if (head.method != Method::kOptions) {
      return fail(ParseErrorKind::kBadTarget, "asterisk-form is only for OPTIONS");
    }
    head.target_form = TargetForm::kAsterisk;
    head.path = target;
    return Status::kDone;
  }
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) {
    // authority-form is for CONNECT only, which is refused above.
    return fail(ParseErrorKind::kBadTarget, "target is neither origin- nor absolute-form");
  }
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) {
    return fail(ParseErrorKind::kBadTarget, "absolute-form scheme is not http or https");
  }
  const std::string_view rest = target.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  // isValidAuthority refuses userinfo, which RFC 9110 §4.2.4 forbids in http(s) URIs.
  if (!isValidAuthority(authority)) {
    return fail(ParseErrorKind::kBadTarget, "invalid authority in absolute-form");
  }
  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (!path.empty() && path.front() == '?') {
    // "http://a?q" would need a "/" we have no buffer for; no real client sends it.
    return fail(ParseErrorKind::kBadTarget, "absolute-form with a query but no path");
  }
  head.target_form = TargetForm::kAbsolute;
  head.scheme = scheme;
  head.authority = authority;
  head.path = path.empty() ? std::string_view("/") : path;
  return Status::kDone;
}

RequestParser::Status RequestParser::deriveSemantics(RequestHead& head) {
  const ParseError error = deriveRequestSemantics(head, limits_);
  if (error.kind != ParseErrorKind::kNone) return fail(error.kind, error.detail);
  return Status::kDone;
}

ParseError deriveRequestSemantics(RequestHead& head, const ParseLimits& limits) {
  const Fields& fields = head.fields;
  const bool http11 = head.version == Version::kHttp11;

  // Host (RFC 9112 §3.2): exactly one valid line in HTTP/1.1, even when absolute-form names the
  // authority (which then wins, §3.2.2).
  // One pass for the count and the value. It also notes, by name length only, whether any
  // line could be Transfer-Encoding or Content-Length (17, 14), and whether there is an Expect
  // or a Connection line (User-Agent has Connection's length): most requests have none, and
  // the readings below of absent fields are then known.
  size_t host_count = 0;
  std::string_view host;
  bool maybe_framing = false;
  bool maybe_expect = false;
  bool maybe_connection = false;
  for (const Field& field : fields.all()) {
    switch (field.name.size()) {
      case 4:
        if (equalsIgnoreCase(field.name, "host") && host_count++ == 0) host = field.value;
        break;
      case 14:
      case 17: maybe_framing = true; break;
      case 6: maybe_expect = maybe_expect || equalsIgnoreCase(field.name, "expect"); break;
      case 10: maybe_connection = maybe_connection || equalsIgnoreCase(field.name, "connection"); break;
      default: break;
    }
  }
  if (host_count > 1) return ParseError{ParseErrorKind::kDuplicateHost, "more than one Host line"};
  if (host_count == 0 && http11) return ParseError{ParseErrorKind::kMissingHost, "HTTP/1.1 without Host"};
  if (host_count == 1) {
    if (!isValidAuthority(host)) return ParseError{ParseErrorKind::kBadHost, "invalid Host"};
    if (head.target_form != TargetForm::kAbsolute) head.authority = host;
  }

  // Framing (RFC 9112 §6). A request never gets the benefit of the doubt.
  const TransferCoding coding = maybe_framing ? readTransferCoding(fields) : TransferCoding::kAbsent;
  const ContentLength length = maybe_framing ? readContentLength(fields) : ContentLength{};
  if (coding != TransferCoding::kAbsent) {
    if (!http11) return ParseError{ParseErrorKind::kTeInHttp10, "Transfer-Encoding in HTTP/1.0"};
    if (length.state != ContentLength::State::kAbsent) {
      return ParseError{ParseErrorKind::kConflictingFraming, "Content-Length with Transfer-Encoding"};
    }
    switch (coding) {
      case TransferCoding::kChunked: head.framing = BodyFraming::kChunked; break;
      case TransferCoding::kUnknownCoding:
      case TransferCoding::kUnsupported:
        return ParseError{ParseErrorKind::kUnsupportedTransferCoding, "transfer coding not supported"};
      default: return ParseError{ParseErrorKind::kBadTransferEncoding, "invalid Transfer-Encoding"};
    }
  } else {
    switch (length.state) {
      case ContentLength::State::kAbsent: break;
      case ContentLength::State::kInvalid:
        return ParseError{ParseErrorKind::kBadContentLength, "invalid Content-Length"};
      case ContentLength::State::kConflicting:
        return ParseError{ParseErrorKind::kConflictingContentLength, "differing Content-Length values"};
      case ContentLength::State::kValid:
        if (length.value > limits.max_body_bytes) {
          return ParseError{ParseErrorKind::kBodyTooLarge, "Content-Length over the body limit"};
        }
        head.framing = BodyFraming::kContentLength;
        head.content_length = length.value;
        break;
    }
  }

  // Expect (RFC 9110 §10.1.1): only 100-continue exists; HTTP/1.0 clients cannot use it.
  if (maybe_expect && fields.has("expect")) {
    size_t elements = 0;
    bool only_continue = true;
    fields.forEachListElement("expect", [&](std::string_view element) {
      ++elements;
      if (!equalsIgnoreCase(element, "100-continue")) only_continue = false;
    });
    if (elements != 1 || !only_continue) {
      return ParseError{ParseErrorKind::kExpectationFailed, "unsupported expectation"};
    }
    head.expect_continue = http11;
  }

  if (!maybe_connection) {
    head.keep_alive = http11;
  } else {
    head.keep_alive = http11 ? !fields.hasListToken("connection", "close")
                             : fields.hasListToken("connection", "keep-alive") &&
                                   !fields.hasListToken("connection", "close");
  }
  return {};
}

}  // namespace ec::http
