// Fuzzes ResponseParser (with the request method) and the body that follows, checking that
// whole and piecewise delivery agree and that framing respects RFC 9112 §6.3.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/body_decoder.h"
#include "http/response_parser.h"
#include "http/serializer.h"

namespace {

using ec::http::BodyDecoder;
using ec::http::BodyFraming;
using ec::http::Method;
using ec::http::ParseLimits;
using ec::http::ResponseHead;
using ec::http::ResponseParser;

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Method method = (data[0] & 1) ? Method::kHead : Method::kGet;
  const size_t piece = 1 + (data[0] >> 1) % 16;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParseLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_field_count = 32;

  // Up to a few heads: 1xx first, then the final one.
  for (int round = 0; round < 4; ++round) {
    ResponseParser parser(limits);
    ResponseHead head;
    const ResponseParser::Status status = parser.parse(input, method, head);
    ResponseParser trickled(limits);
    ResponseHead other;
    ResponseParser::Status t = ResponseParser::Status::kNeedMore;
    for (size_t n = 0; n < input.size() && t == ResponseParser::Status::kNeedMore;) {
      n = std::min(input.size(), n + piece);
      t = trickled.parse(input.substr(0, n), method, other);
    }
    if (input.empty()) t = trickled.parse(input, method, other);
    require(t == status);
    require(trickled.error().kind == parser.error().kind);
    if (status != ResponseParser::Status::kDone) return 0;
    require(head.status >= 100 && head.status <= 599 && head.status != 101);
    require(other.framing == head.framing && other.keep_alive == head.keep_alive);
    if (method == Method::kHead || head.status < 200 || head.status == 204 || head.status == 304) {
      require(head.framing == BodyFraming::kNone);
    }
    if (head.framing == BodyFraming::kChunked) require(!head.fields.has("content-length"));
    if (head.framing == BodyFraming::kCloseDelimited) require(!head.keep_alive);
    input.remove_prefix(parser.headBytes());
    if (head.status >= 200) {
      ec::http::removeHopByHop(head.fields);
      require(!head.fields.has("transfer-encoding") && !head.fields.has("connection"));
      BodyDecoder body;
      body.start(head.framing, head.content_length, limits, false, ec::ErrorSource::kUpstream);
      uint64_t delivered = 0;
      while (true) {
        auto step = body.decode(input);
        if (!step.ok()) return 0;
        delivered += step->data.size();
        input.remove_prefix(step->consumed);
        if (step->done || step->consumed == 0) break;
      }
      require(delivered == body.bodyBytesSoFar());
      if (!body.done()) (void)body.finishAtEof();
      return 0;
    }
  }
  return 0;
}
