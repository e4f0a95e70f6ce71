// Fuzzes the HTTP/2 -> HTTP/1.1 request conversion. The input is split into header fields
// ("name\0value\n" records). Beyond "no crash" it checks, differentially, the property the
// proxy relies on since the hit path stopped writing text (h2::buildRequestHead): the direct
// path and "convertRequest() to text + the strict RequestParser" agree on every input (the
// downgrade error; the parser's refusal, kind and detail; on acceptance every RequestHead
// member), the text a fetch gets (appendRequestText) parses back to the same head, and nothing
// the client sent smuggles an extra line into the head. The input's size picks the limits
// (generous or small, so the 414/431 decisions are reached) and the body (none, known, streamed).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "h2/request_conversion.h"
#include "http/request_parser.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void requireSame(const ec::http::RequestHead& a, const ec::http::RequestHead& b) {
  require(a.method == b.method && a.method_text == b.method_text && a.target == b.target);
  require(a.version == b.version && a.target_form == b.target_form && a.scheme == b.scheme);
  require(a.authority == b.authority && a.path == b.path && a.framing == b.framing);
  require(a.content_length == b.content_length && a.keep_alive == b.keep_alive);
  require(a.expect_continue == b.expect_continue && a.fields.size() == b.fields.size());
  for (size_t i = 0; i < a.fields.size(); ++i) {
    require(a.fields.all()[i].name == b.fields.all()[i].name);
    require(a.fields.all()[i].value == b.fields.all()[i].value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<ec::h2::HeaderField> fields;
  while (!input.empty() && fields.size() < 64) {
    const size_t end = input.find('\n');
    std::string_view record = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const size_t split = record.find('\0');
    if (split == std::string_view::npos) {
      fields.push_back({std::string(record), std::string()});
    } else {
      fields.push_back({std::string(record.substr(0, split)), std::string(record.substr(split + 1))});
    }
  }
  ec::http::ParseLimits limits;
  if (size % 2 == 0) {
    limits.max_field_count = 1000;
    limits.max_header_bytes = 1 << 20;
    limits.max_field_size = 1 << 20;
    limits.max_request_line = 1 << 20;
  } else {
    limits.max_field_count = 1 + size % 7;
    limits.max_header_bytes = 32 + size % 256;
    limits.max_field_size = 8 + size % 64;
    limits.max_request_line = 12 + size % 48;
    limits.max_body_bytes = size % 3;
  }
  std::optional<uint64_t> body;
  bool follows = false;
  switch (size / 2 % 3) {
    case 0: body = 0; break;
    case 1: body = size % 5; break;
    default: follows = true; break;
  }

  ec::h2::ConvertedRequest out;
  const ec::h2::DowngradeError via_text = ec::h2::convertRequest(fields, body, out, follows);
  std::string storage;
  ec::http::RequestHead direct;
  ec::http::ParseError direct_error;
  const ec::h2::DowngradeError via_direct =
      ec::h2::buildRequestHead(fields, body, follows, limits, storage, direct, direct_error);
  require(via_text == via_direct);
  if (via_text != ec::h2::DowngradeError::kNone) return 0;

  // One line per accepted field plus the request line, Host, Content-Length and the blank line:
  // no CR or LF came in from a value.
  size_t lines = 0;
  for (size_t at = out.head.find("\r\n"); at != std::string::npos; at = out.head.find("\r\n", at + 2)) ++lines;
  require(lines <= fields.size() + 4);

  ec::http::RequestParser parser(limits);
  ec::http::RequestHead parsed;
  const auto status = parser.parse(out.head, parsed);
  require(status != ec::http::RequestParser::Status::kNeedMore);
  if (status == ec::http::RequestParser::Status::kError) {
    require(direct_error.kind == parser.error().kind && direct_error.detail == parser.error().detail);
    return 0;
  }
  require(direct_error.kind == ec::http::ParseErrorKind::kNone);
  require(parser.headBytes() == out.head.size());
  require(parsed.method_text == out.method);
  requireSame(parsed, direct);
  std::string again;
  ec::h2::appendRequestText(direct, again);
  ec::http::RequestParser reparser(limits);
  ec::http::RequestHead reparsed;
  require(reparser.parse(again, reparsed) == ec::http::RequestParser::Status::kDone);
  requireSame(parsed, reparsed);
  return 0;
}
