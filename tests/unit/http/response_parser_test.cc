#include "http/response_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace ec::http {
namespace {

using K = ParseErrorKind;

struct Parsed {
  ResponseParser::Status status;
  ParseErrorKind kind;
  size_t head_bytes;
};

// Parses whole, then trickled one byte at a time, and checks both agree.
Parsed parseResponse(const std::string& raw, ResponseHead& head, Method method = Method::kGet) {
  ResponseParser whole(ParseLimits{});
  const ResponseParser::Status status = whole.parse(raw, method, head);
  ResponseParser trickled(ParseLimits{});
  ResponseHead other;
  ResponseParser::Status t = ResponseParser::Status::kNeedMore;
  for (size_t n = 1; n <= raw.size() && t == ResponseParser::Status::kNeedMore; ++n) {
    t = trickled.parse(std::string_view(raw).substr(0, n), method, other);
  }
  EXPECT_EQ(t, status) << raw;
  EXPECT_EQ(trickled.error().kind, whole.error().kind) << raw;
  if (status == ResponseParser::Status::kDone) {
    EXPECT_EQ(other.framing, head.framing);
    EXPECT_EQ(other.content_length, head.content_length);
    EXPECT_EQ(other.keep_alive, head.keep_alive);
  }
  return {status, whole.error().kind, whole.headBytes()};
}

TEST(ResponseParser, ContentLength) {
  const std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 0012\r\nETag: \"x\"\r\n\r\nbody";
  ResponseHead head;
  const Parsed p = parseResponse(raw, head);
  ASSERT_EQ(p.status, ResponseParser::Status::kDone);
  EXPECT_EQ(p.head_bytes, raw.size() - 4);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.reason, "OK");
  EXPECT_EQ(head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(head.content_length, 12u);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.fields.get("etag"), "\"x\"");
}

TEST(ResponseParser, NoLengthIsCloseDelimited) {
  const std::string raw = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
  ResponseHead head;
  ASSERT_EQ(parseResponse(raw, head).status, ResponseParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kCloseDelimited);
  EXPECT_FALSE(head.keep_alive);
}

TEST(ResponseParser, StatusLineWithoutReason) {
  const std::string raw = "HTTP/1.1 204\r\n\r\n";
  ResponseHead head;
  ASSERT_EQ(parseResponse(raw, head).status, ResponseParser::Status::kDone);
  EXPECT_EQ(head.status, 204);
  EXPECT_TRUE(head.reason.empty());
  EXPECT_EQ(head.framing, BodyFraming::kNone);
}

TEST(ResponseParser, ChunkedWinsOverContentLengthAndClosesConnection) {
  const std::string raw =
      "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n";
  ResponseHead head;
  ASSERT_EQ(parseResponse(raw, head).status, ResponseParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kChunked);
  EXPECT_FALSE(head.keep_alive);
  EXPECT_FALSE(head.fields.has("content-length"));  // never forwarded with TE
}

TEST(ResponseParser, BodilessWhateverTheySay) {
  ResponseHead head;
  std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
  ASSERT_EQ(parseResponse(raw, head, Method::kHead).status, ResponseParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kNone);
  EXPECT_EQ(head.fields.get("content-length"), "100");  // the GET length, forwarded as is
  raw = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(parseResponse(raw, head).status, ResponseParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kNone);
  raw = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
  ASSERT_EQ(parseResponse(raw, head).status, ResponseParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kNone);
  EXPECT_TRUE(head.keep_alive);
  raw = "HTTP/1.1 304 Not Modified\r\nContent-Length: abc\r\n\r\n";
  EXPECT_EQ(parseResponse(raw, head).kind, K::kBadContentLength);
}

TEST(ResponseParser, InformationalHeadsThenFinal) {
  const std::string raw =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ResponseParser parser(ParseLimits{});
  ResponseHead head;
  std::string_view rest = raw;
  std::vector<int> statuses;
  while (true) {
    ASSERT_EQ(parser.parse(rest, Method::kGet, head), ResponseParser::Status::kDone);
    statuses.push_back(head.status);
    rest.remove_prefix(parser.headBytes());
    parser.reset();
    if (head.status >= 200) break;
    EXPECT_EQ(head.framing, BodyFraming::kNone);
  }
  EXPECT_EQ(statuses, (std::vector<int>{100, 103, 200}));
  EXPECT_EQ(head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(rest, "ok");
}

TEST(ResponseParser, KeepAliveByVersion) {
  ResponseHead head;
  ASSERT_EQ(parseResponse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", head).status,
            ResponseParser::Status::kDone);
  EXPECT_FALSE(head.keep_alive);
  EXPECT_EQ(head.version, Version::kHttp10);
  ASSERT_EQ(
      parseResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", head)
          .status,
      ResponseParser::Status::kDone);
  EXPECT_TRUE(head.keep_alive);
  ASSERT_EQ(parseResponse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", head)
                .status,
            ResponseParser::Status::kDone);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(parseResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n",
                          head)
                .status,
            ResponseParser::Status::kDone);
  EXPECT_FALSE(head.keep_alive);  // chunked from an HTTP/1.0 sender: do not reuse
}

struct BadCase {
  const char* name;
  std::string raw;
  ParseErrorKind expected;
};

class ResponseHardening : public ::testing::TestWithParam<BadCase> {};

TEST_P(ResponseHardening, Refused) {
  ResponseHead head;
  const Parsed p = parseResponse(GetParam().raw, head);
  EXPECT_EQ(p.status, ResponseParser::Status::kError);
  EXPECT_STREQ(parseErrorName(p.kind), parseErrorName(GetParam().expected));
}

// Hardening D19 and the response side of A and C.
INSTANTIATE_TEST_SUITE_P(
    Http, ResponseHardening,
    ::testing::Values(
        BadCase{"cl_differ", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                K::kConflictingContentLength},
        BadCase{"cl_list_differ", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
                K::kConflictingContentLength},
        BadCase{"cl_invalid", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                K::kBadContentLength},
        BadCase{"te_unknown", "HTTP/1.1 200 OK\r\nTransfer-Encoding: cow\r\n\r\n",
                K::kUnsupportedTransferCoding},
        BadCase{"te_gzip_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                K::kUnsupportedTransferCoding},
        BadCase{"te_not_final", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                K::kBadTransferEncoding},
        BadCase{"cr_in_value", "HTTP/1.1 200 OK\r\nX: a\rSet-Cookie: x\r\n\r\n", K::kBadLineEnding},
        BadCase{"lf_in_value", "HTTP/1.1 200 OK\r\nX: a\nSet-Cookie: x\r\n\r\n", K::kBadLineEnding},
        BadCase{"nul_in_value", std::string("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 27),
                K::kBadFieldValue},
        BadCase{"obs_fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", K::kObsFold},
        BadCase{"switching_protocols", "HTTP/1.1 101 Switching Protocols\r\n\r\n",
                K::kUnsupportedStatus},
        BadCase{"status_two_digits", "HTTP/1.1 20 OK\r\n\r\n", K::kBadStatusLine},
        BadCase{"status_letters", "HTTP/1.1 2x0 OK\r\n\r\n", K::kBadStatusLine},
        BadCase{"status_099", "HTTP/1.1 099 OK\r\n\r\n", K::kBadStatusLine},
        BadCase{"status_600", "HTTP/1.1 600 OK\r\n\r\n", K::kBadStatusLine},
        BadCase{"status_no_sp", "HTTP/1.1 200OK\r\n\r\n", K::kBadStatusLine},
        BadCase{"version_lower", "http/1.1 200 OK\r\n\r\n", K::kBadStatusLine},
        BadCase{"version_2", "HTTP/2.0 200 OK\r\n\r\n", K::kUnsupportedVersion},
        BadCase{"http09_body", "<html>hello</html>\r\n\r\n", K::kBadStatusLine},
        BadCase{"leading_crlf", "\r\nHTTP/1.1 200 OK\r\n\r\n", K::kBadStatusLine},
        BadCase{"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", K::kBadLineEnding},
        BadCase{"reason_control", "HTTP/1.1 200 O\x01K\r\n\r\n", K::kBadStatusLine}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(ResponseParser, HeaderLimit) {
  ParseLimits limits;
  limits.max_header_bytes = 128;
  ResponseParser parser(limits);
  ResponseHead head;
  std::string raw = "HTTP/1.1 200 OK\r\n";
  ResponseParser::Status status = ResponseParser::Status::kNeedMore;
  while (status == ResponseParser::Status::kNeedMore) {
    raw += "X: y\r\n";
    status = parser.parse(raw, Method::kGet, head);
  }
  EXPECT_EQ(parser.error().kind, K::kHeaderTooLarge);
  EXPECT_LE(raw.size(), 140u);
}

}  // namespace
}  // namespace ec::http
