// Fuzzes the chunked decoder: the same bytes delivered whole and in pieces must give the same
// payload, the same end position and the same error; the payload re-encoded with appendChunk
// must decode back to itself.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/body_decoder.h"
#include "http/serializer.h"

namespace {

using ec::http::BodyDecoder;
using ec::http::BodyFraming;
using ec::http::ParseErrorKind;
using ec::http::ParseLimits;

void require(bool condition) {
  if (!condition) std::abort();
}

struct Outcome {
  std::string body;
  size_t consumed = 0;
  bool done = false;
  ParseErrorKind error = ParseErrorKind::kNone;
};

Outcome decode(std::string_view input, size_t piece, const ParseLimits& limits) {
  BodyDecoder decoder;
  decoder.start(BodyFraming::kChunked, 0, limits, true);
  Outcome out;
  size_t offered = 0;  // bytes of input made visible so far
  while (true) {
    const std::string_view window = input.substr(out.consumed, offered - out.consumed);
    auto step = decoder.decode(window);
    if (!step.ok()) {
      out.error = decoder.error().kind;
      return out;
    }
    out.body.append(step->data);
    out.consumed += step->consumed;
    if (step->done) {
      out.done = true;
      return out;
    }
    if (step->consumed > 0) continue;
    if (offered == input.size()) return out;
    offered = std::min(input.size(), offered + piece);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 8;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParseLimits limits;
  limits.max_body_bytes = 1 << 20;
  limits.max_chunk_extension = 32;
  limits.max_field_size = 128;
  limits.max_field_count = 8;

  const Outcome whole = decode(input, input.size() + 1, limits);
  const Outcome split = decode(input, piece, limits);
  require(whole.body == split.body);
  require(whole.done == split.done);
  require(whole.error == split.error);
  // On error the bytes consumed before it depend on the split; the payload delivered does not.
  if (whole.error == ParseErrorKind::kNone) require(whole.consumed == split.consumed);
  require(whole.consumed <= input.size());

  if (whole.done) {
    std::string encoded;
    ec::http::appendChunk(encoded, whole.body);
    ec::http::appendLastChunk(encoded);
    const Outcome round = decode(encoded, encoded.size() + 1, limits);
    require(round.done && round.body == whole.body && round.consumed == encoded.size());
  }
  return 0;
}
