// Fuzzes RequestParser + BodyDecoder + appendOriginRequest. Beyond "no crash", it checks the
// properties the proxy relies on: the same bytes delivered whole or in pieces are decided the
// same way; every view in the head points into the input; and the canonical request we would
// send upstream parses back to the same meaning (re-serialisation never creates ambiguity).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/body_decoder.h"
#include "http/request_parser.h"
#include "http/serializer.h"

namespace {

using ec::http::BodyDecoder;
using ec::http::ParseLimits;
using ec::http::RequestHead;
using ec::http::RequestParser;

void require(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

ParseLimits fuzzLimits() {
  ParseLimits limits;
  limits.max_request_line = 512;  // small limits so the fuzzer reaches them
  limits.max_field_size = 512;
  limits.max_field_count = 16;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = 4096;
  limits.max_chunk_extension = 64;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 16;  // how the trickled copy is delivered
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const ParseLimits limits = fuzzLimits();

  RequestParser parser(limits);
  RequestHead head;
  const RequestParser::Status status = parser.parse(input, head);

  RequestParser trickled(limits);
  RequestHead other;
  RequestParser::Status t = RequestParser::Status::kNeedMore;
  for (size_t n = 0; n < input.size() && t == RequestParser::Status::kNeedMore;) {
    n = std::min(input.size(), n + piece);
    t = trickled.parse(input.substr(0, n), other);
  }
  if (input.empty()) t = trickled.parse(input, other);
  require(t == status);
  require(trickled.error().kind == parser.error().kind);
  if (status != RequestParser::Status::kDone) return 0;
  require(trickled.headBytes() == parser.headBytes());
  require(parser.headBytes() <= input.size());

  const std::string_view head_bytes = input.substr(0, parser.headBytes());
  require(inside(head.method_text, head_bytes) && inside(head.target, head_bytes));
  require(inside(head.authority, head_bytes) && inside(head.scheme, head_bytes));
  for (const auto& field : head.fields.all()) {
    require(inside(field.name, head_bytes) && inside(field.value, head_bytes));
  }

  // An HTTP/1.0 request without Host has no authority; the proxy supplies its origin's.
  if (!head.authority.empty()) {
    std::string upstream;
    ec::http::appendOriginRequest(upstream, head, {"192.0.2.1", true});
    RequestParser again(ParseLimits{});
    RequestHead reparsed;
    require(again.parse(upstream, reparsed) == RequestParser::Status::kDone);
    require(again.headBytes() == upstream.size());
    require(reparsed.method_text == head.method_text);
    require(reparsed.path == head.path);
    require(reparsed.authority == head.authority);
    require(reparsed.framing == head.framing);
    require(reparsed.content_length == head.content_length);
  }

  BodyDecoder body;
  body.start(head.framing, head.content_length, limits, true);
  std::string_view rest = input.substr(parser.headBytes());
  while (true) {
    auto step = body.decode(rest);
    if (!step.ok()) break;
    require(step->consumed <= rest.size());
    require(inside(step->data, rest));
    rest.remove_prefix(step->consumed);
    if (step->done || step->consumed == 0) break;
  }
  return 0;
}
