#include "http/body_decoder.h"

#include <gtest/gtest.h>

#include <string>

namespace ec::http {
namespace {

using K = ParseErrorKind;

struct Decoded {
  bool ok = false;
  bool done = false;
  std::string body;
  size_t consumed = 0;  // bytes of the input used when done
  ParseErrorKind kind = K::kNone;
};

// Decodes `raw` delivered `step` bytes at a time. The decoder keeps its own place, so each call
// only sees bytes it has not consumed yet.
Decoded decodeAll(std::string_view raw, BodyFraming framing, size_t step = SIZE_MAX,
                  ParseLimits limits = {}, uint64_t content_length = 0, bool enforce = true) {
  BodyDecoder decoder;
  decoder.start(framing, content_length, limits, enforce);
  Decoded out;
  std::string pending;
  size_t fed = 0;
  size_t used = 0;
  while (true) {
    auto r = decoder.decode(pending);
    if (!r.ok()) {
      out.kind = decoder.error().kind;
      return out;
    }
    out.body += r->data;
    pending.erase(0, r->consumed);
    used += r->consumed;
    if (r->done) {
      out.ok = out.done = true;
      out.consumed = used;
      return out;
    }
    if (r->consumed > 0) continue;
    if (fed == raw.size()) {
      out.ok = true;  // needs more
      return out;
    }
    const size_t n = std::min(step, raw.size() - fed);
    pending.append(raw.substr(fed, n));
    fed += n;
  }
}

TEST(BodyDecoder, ContentLength) {
  Decoded d = decodeAll("hello world", BodyFraming::kContentLength, SIZE_MAX, {}, 5);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "hello");
  EXPECT_EQ(d.consumed, 5u);
  d = decodeAll("hel", BodyFraming::kContentLength, 1, {}, 5);
  EXPECT_TRUE(d.ok);
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.body, "hel");
}

TEST(BodyDecoder, NoneIsDoneAtOnce) {
  BodyDecoder decoder;
  decoder.start(BodyFraming::kNone, 0, {}, true);
  auto r = decoder.decode("GET / HTTP/1.1\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->done);
  EXPECT_EQ(r->consumed, 0u);
}

TEST(BodyDecoder, ChunkedAnySplitGivesSameResult) {
  const std::string raw =
      "5\r\nhello\r\n000006;name=value;q=\"a;b\\\"c\"\r\n world\r\n"
      "A\r\n0123456789\r\n0\r\nX-Trailer: yes\r\nHost: evil\r\n\r\nNEXT";
  const Decoded whole = decodeAll(raw, BodyFraming::kChunked);
  ASSERT_TRUE(whole.done) << parseErrorName(whole.kind);
  EXPECT_EQ(whole.body, "hello world0123456789");
  EXPECT_EQ(whole.consumed, raw.size() - 4);
  for (size_t step : {1, 2, 3, 5, 13}) {
    const Decoded split = decodeAll(raw, BodyFraming::kChunked, step);
    EXPECT_TRUE(split.done) << step;
    EXPECT_EQ(split.body, whole.body) << step;
    EXPECT_EQ(split.consumed, whole.consumed) << step;
  }
}

struct ChunkCase {
  const char* name;
  std::string raw;
  ParseErrorKind expected;  // kNone: decodes completely
};

class ChunkedHardening : public ::testing::TestWithParam<ChunkCase> {};

TEST_P(ChunkedHardening, DecidedAsDocumented) {
  const ChunkCase& c = GetParam();
  const Decoded whole = decodeAll(c.raw, BodyFraming::kChunked);
  const Decoded trickled = decodeAll(c.raw, BodyFraming::kChunked, 1);
  if (c.expected == K::kNone) {
    EXPECT_TRUE(whole.done) << parseErrorName(whole.kind);
  } else {
    EXPECT_FALSE(whole.ok);
    EXPECT_STREQ(parseErrorName(whole.kind), parseErrorName(c.expected));
  }
  EXPECT_EQ(trickled.kind, whole.kind);
  EXPECT_EQ(trickled.done, whole.done);
}

// Hardening A6 and A7 (chunk lines).
INSTANTIATE_TEST_SUITE_P(
    Http, ChunkedHardening,
    ::testing::Values(
        ChunkCase{"size_zz", "zz\r\n", K::kBadChunkSize},
        ChunkCase{"size_0x5", "0x5\r\nhello\r\n0\r\n\r\n", K::kBadChunkSize},
        ChunkCase{"size_minus", "-1\r\n", K::kBadChunkSize},
        ChunkCase{"size_trailing_sp", "5 \r\nhello\r\n0\r\n\r\n", K::kBadChunkSize},
        ChunkCase{"size_leading_sp", " 5\r\nhello\r\n0\r\n\r\n", K::kBadChunkSize},
        ChunkCase{"size_empty", "\r\nhello\r\n0\r\n\r\n", K::kBadChunkSize},
        ChunkCase{"size_2_32_over_request_limit", "100000000\r\n", K::kBodyTooLarge},
        ChunkCase{"size_2_64_wrap", "10000000000000000\r\n", K::kBadChunkSize},
        ChunkCase{"size_17_digits", "ffffffffffffffff1\r\n", K::kBadChunkSize},
        ChunkCase{"size_17_zeros", "00000000000000005\r\nhello\r\n0\r\n\r\n", K::kBadChunkSize},
        ChunkCase{"leading_zeros", "000005\r\nhello\r\n0\r\n\r\n", K::kNone},
        ChunkCase{"data_longer", "5\r\nhelloX\r\n0\r\n\r\n", K::kBadChunkData},
        ChunkCase{"data_shorter", "5\r\nhell\r\n0\r\n\r\n", K::kBadChunkData},
        ChunkCase{"data_no_crlf", "5\r\nhello0\r\n\r\n", K::kBadChunkData},
        ChunkCase{"extension", "5;a=b\r\nhello\r\n0;last\r\n\r\n", K::kNone},
        ChunkCase{"extension_quoted", "5;a=\"x y\"\r\nhello\r\n0\r\n\r\n", K::kNone},
        ChunkCase{"extension_bare_lf", "5;a\nb\r\nhello\r\n0\r\n\r\n", K::kBadLineEnding},
        ChunkCase{"extension_bare_cr", "5;a\rb\r\nhello\r\n0\r\n\r\n", K::kBadLineEnding},
        ChunkCase{"extension_unterminated_quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n",
                  K::kBadChunkExtension},
        ChunkCase{"extension_nul", std::string("5;a\0\r\nhello\r\n0\r\n\r\n", 17),
                  K::kBadChunkExtension},
        ChunkCase{"extension_too_long", "5;" + std::string(1100, 'a') + "\r\nhello\r\n0\r\n\r\n",
                  K::kChunkExtensionTooLong},
        ChunkCase{"lf_only_lines", "5\nhello\n0\n\n", K::kBadLineEnding},
        ChunkCase{"cr_only_size", "5\rhello\r\n0\r\n\r\n", K::kBadLineEnding},
        ChunkCase{"trailer_dropped", "0\r\nContent-Length: 5\r\nTransfer-Encoding: x\r\n\r\n",
                  K::kNone},
        ChunkCase{"trailer_obs_fold", "0\r\nA: b\r\n c\r\n\r\n", K::kBadTrailer},
        ChunkCase{"trailer_no_colon", "0\r\nAbc\r\n\r\n", K::kBadTrailer},
        ChunkCase{"trailer_space_before_colon", "0\r\nA : b\r\n\r\n", K::kBadTrailer},
        ChunkCase{"trailer_bare_lf", "0\r\nA: b\n\r\n", K::kBadTrailer},
        ChunkCase{"trailer_bare_cr", "0\r\nA: b\rc\r\n\r\n", K::kBadLineEnding},
        ChunkCase{"last_chunk_bare_lf_end", "0\r\n\n", K::kBadTrailer}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(BodyDecoder, LastChunkWithoutFinalCrlfWaits) {
  // Hardening A6: "0" without the final CRLF is never the end.
  for (std::string_view raw : {"5\r\nhello\r\n0", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\n\r"}) {
    const Decoded d = decodeAll(raw, BodyFraming::kChunked);
    EXPECT_TRUE(d.ok);
    EXPECT_FALSE(d.done) << raw;
  }
}

TEST(BodyDecoder, BodyLimitOnlyWhenEnforced) {
  ParseLimits limits;
  limits.max_body_bytes = 8;
  Decoded d =
      decodeAll("5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n", BodyFraming::kChunked, SIZE_MAX, limits);
  EXPECT_EQ(d.kind, K::kBodyTooLarge);
  EXPECT_EQ(statusForParseError(d.kind), 413);
  d = decodeAll("5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", BodyFraming::kChunked, SIZE_MAX, limits);
  EXPECT_TRUE(d.done);
  d = decodeAll("5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n", BodyFraming::kChunked, SIZE_MAX, limits, 0,
                false);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "helloabcd");
  d = decodeAll("123456789", BodyFraming::kContentLength, SIZE_MAX, limits, 9);
  EXPECT_EQ(d.kind, K::kBodyTooLarge);
}

TEST(BodyDecoder, LargeChunkSizesWithoutBodyLimit) {
  // A response may carry a 4 GiB chunk; the size is read exactly, without wrapping.
  Decoded d = decodeAll("100000000\r\nabc", BodyFraming::kChunked, SIZE_MAX, {}, 0, false);
  EXPECT_TRUE(d.ok);
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.body, "abc");
  d = decodeAll("ffffffffffffffff\r\nab", BodyFraming::kChunked, 1, {}, 0, false);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.body, "ab");
}

TEST(BodyDecoder, TrailerLimits) {
  ParseLimits limits;
  limits.max_field_count = 2;
  limits.max_field_size = 16;
  Decoded d =
      decodeAll("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", BodyFraming::kChunked, SIZE_MAX, limits);
  EXPECT_EQ(d.kind, K::kTooManyFields);
  d = decodeAll("0\r\nA: " + std::string(20, 'x') + "\r\n\r\n", BodyFraming::kChunked, SIZE_MAX,
                limits);
  EXPECT_EQ(d.kind, K::kFieldTooLarge);
}

TEST(BodyDecoder, EofEndsOnlyCloseDelimited) {
  BodyDecoder decoder;
  decoder.start(BodyFraming::kCloseDelimited, 0, {}, false);
  auto r = decoder.decode("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "abc");
  EXPECT_FALSE(r->done);
  r = decoder.finishAtEof();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->done);
  EXPECT_EQ(decoder.bodyBytesSoFar(), 3u);

  // Hardening D19: an origin closing before Content-Length is reached is a truncation.
  decoder.start(BodyFraming::kContentLength, 10, {}, false, ErrorSource::kUpstream);
  ASSERT_TRUE(decoder.decode("abc").ok());
  r = decoder.finishAtEof();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kClosed);
  EXPECT_EQ(r.error().source, ErrorSource::kUpstream);
  EXPECT_EQ(decoder.error().kind, K::kTruncatedBody);

  decoder.start(BodyFraming::kChunked, 0, {}, false);
  ASSERT_TRUE(decoder.decode("5\r\nhel").ok());
  EXPECT_FALSE(decoder.finishAtEof().ok());
}

TEST(BodyDecoder, ErrorIsSticky) {
  BodyDecoder decoder;
  decoder.start(BodyFraming::kChunked, 0, {}, true);
  EXPECT_FALSE(decoder.decode("zz").ok());
  auto r = decoder.decode("5\r\nhello\r\n0\r\n\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kParse);
  EXPECT_NE(r.error().context.find("bad_chunk_size"), std::string::npos);
}

}  // namespace
}  // namespace ec::http
