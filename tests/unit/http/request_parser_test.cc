#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/body_decoder.h"

namespace ec::http {
namespace {

using K = ParseErrorKind;

struct Outcome {
  RequestParser::Status status;
  ParseErrorKind kind;
};

Outcome parseAll(std::string_view raw, RequestHead& head, const ParseLimits& limits = {}) {
  RequestParser parser(limits);
  RequestParser::Status status = parser.parse(raw, head);
  return {status, parser.error().kind};
}

// Feeds `raw` one byte at a time through a growing buffer.
Outcome parseTrickled(std::string_view raw, RequestHead& head, const ParseLimits& limits = {}) {
  RequestParser parser(limits);
  RequestParser::Status status = RequestParser::Status::kNeedMore;
  for (size_t n = 1; n <= raw.size() && status == RequestParser::Status::kNeedMore; ++n) {
    status = parser.parse(raw.substr(0, n), head);
  }
  return {status, parser.error().kind};
}

// One row per case of reference/http-hardening.md A-C that a request head decides.
// kNone means: accepted.
struct Case {
  const char* name;
  std::string raw;
  ParseErrorKind expected;
};

std::string withHost(std::string_view fields) {
  return "POST / HTTP/1.1\r\nHost: a\r\n" + std::string(fields) + "\r\n";
}

std::vector<Case> hardeningCases() {
  using namespace std::string_literals;
  return {
      // A1-A2: framing conflicts.
      {"cl_te", withHost("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n"),
       K::kConflictingFraming},
      {"te_cl", withHost("Transfer-Encoding: chunked\r\nContent-Length: 6\r\n"),
       K::kConflictingFraming},
      {"cl_dup_differ", withHost("Content-Length: 5\r\nContent-Length: 6\r\n"),
       K::kConflictingContentLength},
      {"cl_list_differ", withHost("Content-Length: 5, 6\r\n"), K::kConflictingContentLength},
      {"cl_list_same", withHost("Content-Length: 5, 5\r\n"), K::kNone},
      {"cl_dup_same", withHost("Content-Length: 5\r\nContent-Length: 5\r\n"), K::kNone},
      // A3: invalid Content-Length values.
      {"cl_plus", withHost("Content-Length: +5\r\n"), K::kBadContentLength},
      {"cl_minus", withHost("Content-Length: -1\r\n"), K::kBadContentLength},
      {"cl_hex", withHost("Content-Length: 0x5\r\n"), K::kBadContentLength},
      {"cl_decimal", withHost("Content-Length: 5.0\r\n"), K::kBadContentLength},
      {"cl_exp", withHost("Content-Length: 1e3\r\n"), K::kBadContentLength},
      {"cl_two_numbers", withHost("Content-Length: 5 5\r\n"), K::kBadContentLength},
      {"cl_empty", withHost("Content-Length:\r\n"), K::kBadContentLength},
      {"cl_empty_element", withHost("Content-Length: 5,\r\n"), K::kBadContentLength},
      {"cl_arabic_digit", withHost("Content-Length: \xd9\xa5\r\n"), K::kBadContentLength},
      {"cl_overflow", withHost("Content-Length: 99999999999999999999\r\n"), K::kBadContentLength},
      {"cl_leading_zeros", withHost("Content-Length: 0005\r\n"), K::kNone},
      // A4: transfer codings.
      {"te_chunked_not_final", withHost("Transfer-Encoding: chunked, identity\r\n"),
       K::kBadTransferEncoding},
      {"te_gzip_only", withHost("Transfer-Encoding: gzip\r\n"), K::kBadTransferEncoding},
      {"te_gzip_chunked", withHost("Transfer-Encoding: gzip, chunked\r\n"),
       K::kUnsupportedTransferCoding},
      {"te_cow", withHost("Transfer-Encoding: cow\r\n"), K::kUnsupportedTransferCoding},
      {"te_xchunked", withHost("Transfer-Encoding: xchunked\r\n"), K::kUnsupportedTransferCoding},
      {"te_chunk", withHost("Transfer-Encoding: chunk\r\n"), K::kUnsupportedTransferCoding},
      {"te_chunked_twice", withHost("Transfer-Encoding: chunked, chunked\r\n"),
       K::kBadTransferEncoding},
      {"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", K::kTeInHttp10},
      // A5: TE obfuscations.
      {"te_space_before_colon", withHost("Transfer-Encoding : chunked\r\n"), K::kBadFieldName},
      {"te_tab_ows", withHost("Transfer-Encoding:\tchunked\r\n"), K::kNone},
      {"te_trailing_ows", withHost("Transfer-Encoding: chunked \r\n"), K::kNone},
      {"te_upper", withHost("TRANSFER-ENCODING: CHUNKED\r\n"), K::kNone},
      {"te_mixed_case", withHost("TrAnSFer-EnCODinG: cHuNkeD\r\n"), K::kNone},
      {"te_underscore_opaque", withHost("Transfer_Encoding: chunked\r\n"), K::kNone},
      {"te_space_in_name", withHost("Transfer Encoding: chunked\r\n"), K::kBadFieldName},
      {"te_cr_in_name", withHost("Transfer\r-Encoding: chunked\r\n"), K::kBadLineEnding},
      {"te_high_byte_name", withHost("Transf\x82r-Encoding: chunked\r\n"), K::kBadFieldName},
      {"te_nul_before_value", withHost("Transfer-Encoding: \0chunked\r\n"s), K::kBadFieldValue},
      {"te_x01_value", withHost("Transfer-Encoding: \x01 chunked\r\n"), K::kBadFieldValue},
      {"te_vt_value",
       withHost("Transfer-Encoding:\x0b"
                "chunked\r\n"),
       K::kBadFieldValue},
      {"te_ff_value",
       withHost("Transfer-Encoding:\x0c"
                "chunked\r\n"),
       K::kBadFieldValue},
      {"te_x1f_after", withHost("Transfer-Encoding: chunked\x1f\r\n"), K::kBadFieldValue},
      {"te_del_after", withHost("Transfer-Encoding: chunked\x7f\r\n"), K::kBadFieldValue},
      {"te_nbsp_before",
       withHost("Transfer-Encoding: \xa0"
                "chunked\r\n"),
       K::kBadTransferEncoding},
      {"te_xff_after", withHost("Transfer-Encoding: chunked\xff\r\n"), K::kBadTransferEncoding},
      {"te_nul_in_name", withHost("Transfer-Encoding\0: chunked\r\n"s), K::kBadFieldName},
      {"te_x0b_before_name", withHost("\x0bTransfer-Encoding: chunked\r\n"), K::kBadFieldName},
      {"te_double_quoted", withHost("Transfer-Encoding: \"chunked\"\r\n"), K::kBadTransferEncoding},
      {"te_single_quoted", withHost("Transfer-Encoding: 'chunked'\r\n"),
       K::kUnsupportedTransferCoding},
      {"te_chunked_cow", withHost("Transfer-Encoding: chunked, cow\r\n"),
       K::kUnsupportedTransferCoding},
      {"te_cow_chunked", withHost("Transfer-Encoding: cow, chunked\r\n"),
       K::kUnsupportedTransferCoding},
      {"te_spaced_words", withHost("Transfer-Encoding: cow chunked bar\r\n"),
       K::kBadTransferEncoding},
      {"te_x96_inside", withHost("Transfer-Encoding: ch\x96nked\r\n"), K::kBadTransferEncoding},
      {"te_two_lines", withHost("Transfer-Encoding: cow\r\nTransfer-Encoding: chunked\r\n"),
       K::kUnsupportedTransferCoding},
      {"te_after_bare_cr", withHost("X: X\rTransfer-Encoding: chunked\r\n"), K::kBadLineEnding},
      {"te_after_bare_lf", withHost("X: X\nTransfer-Encoding: chunked\r\n"), K::kBadLineEnding},
      {"te_after_nul", withHost("X: X\0Transfer-Encoding: chunked\r\n"s), K::kBadFieldValue},
      {"obs_fold_into_te", withHost("X: y\r\n Transfer-Encoding: chunked\r\n"), K::kObsFold},
      {"obs_fold_te_value", withHost("Transfer-Encoding:\r\n chunked\r\n"), K::kObsFold},
      {"first_field_sp", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", K::kObsFold},
      {"content_encoding_chunked", withHost("Content-Encoding: chunked\r\n"), K::kNone},
      // A7: bare LF / bare CR.
      {"bare_lf_everywhere", "GET / HTTP/1.1\nHost: a\n\n", K::kBadLineEnding},
      {"bare_lf_field", "GET / HTTP/1.1\r\nHost: a\n\r\n", K::kBadLineEnding},
      {"bare_lf_end", "GET / HTTP/1.1\r\nHost: a\r\n\n", K::kBadLineEnding},
      {"bare_cr_request_line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadLineEnding},
      // B9: request-line whitespace.
      {"tab_after_method", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadRequestLine},
      {"double_sp", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadRequestLine},
      {"trailing_sp", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", K::kBadRequestLine},
      {"sp_in_target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadRequestLine},
      {"nul_in_method", "G\0T / HTTP/1.1\r\nHost: a\r\n\r\n"s, K::kBadMethod},
      {"nul_in_target", "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"s, K::kBadTarget},
      {"leading_sp", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadRequestLine},
      // B10: versions.
      {"http09", "GET /\r\n\r\n", K::kBadRequestLine},
      {"http08", "GET / HTTP/0.8\r\nHost: a\r\n\r\n", K::kUnsupportedVersion},
      {"http1_10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", K::kBadVersion},
      {"http01_1", "GET / HTTP/01.1\r\nHost: a\r\n\r\n", K::kBadVersion},
      {"http_minus", "GET / HTTP/-1.0\r\nHost: a\r\n\r\n", K::kBadVersion},
      {"http1_dot", "GET / HTTP/1.\r\nHost: a\r\n\r\n", K::kBadVersion},
      {"http65536", "GET / HTTP/65536.9\r\nHost: a\r\n\r\n", K::kBadVersion},
      {"http_lower", "GET / http/1.1\r\nHost: a\r\n\r\n", K::kBadVersion},
      {"http2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", K::kUnsupportedVersion},
      {"http_twice", "GET / HTTP/1.1HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadVersion},
      // B11: leading empty lines.
      {"one_leading_crlf", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", K::kNone},
      {"two_leading_crlf", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadRequestLine},
      {"crcrcrlf", "\r\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadLineEnding},
      {"leading_lf", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadLineEnding},
      {"junk_before_method", "\x01GET / HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadMethod},
      // B12: target forms.
      {"absolute_form", "GET http://evil/ HTTP/1.1\r\nHost: good\r\n\r\n", K::kNone},
      {"absolute_userinfo", "GET http://u@evil/ HTTP/1.1\r\nHost: good\r\n\r\n", K::kBadTarget},
      {"absolute_ftp", "GET ftp://evil/ HTTP/1.1\r\nHost: good\r\n\r\n", K::kBadTarget},
      {"asterisk_get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadTarget},
      {"asterisk_options", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", K::kNone},
      {"authority_form_get", "GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadTarget},
      {"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", K::kUnsupportedMethod},
      {"fragment", "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadTarget},
      {"non_ascii_target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadTarget},
      {"del_in_target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", K::kBadTarget},
      // C13: field names.
      {"name_with_space", withHost("Foo Bar: v\r\n"), K::kBadFieldName},
      {"name_with_at", withHost("Foo@: v\r\n"), K::kBadFieldName},
      {"name_with_nul", withHost("Foo\0: v\r\n"s), K::kBadFieldName},
      {"empty_name", withHost(": v\r\n"), K::kBadFieldName},
      {"no_colon", withHost("NoColonHere\r\n"), K::kBadFieldName},
      // C14: CR / LF / NUL in values.
      {"nul_in_value", withHost("X: a\0b\r\n"s), K::kBadFieldValue},
      {"cr_in_value", withHost("X: a\rb\r\n"), K::kBadLineEnding},
      // C15: Host.
      {"missing_host", "GET / HTTP/1.1\r\n\r\n", K::kMissingHost},
      {"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", K::kDuplicateHost},
      {"host_list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", K::kBadHost},
      {"host_userinfo", "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", K::kBadHost},
      {"host_two_ports", "GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n", K::kBadHost},
      {"host_empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", K::kBadHost},
      {"host_absolute_missing", "GET http://a/ HTTP/1.1\r\n\r\n", K::kMissingHost},
      {"host_optional_http10", "GET / HTTP/1.0\r\n\r\n", K::kNone},
      // C17: Expect.
      {"expect_continue", withHost("Expect: 100-continue\r\nContent-Length: 1\r\n"), K::kNone},
      {"expect_other", withHost("Expect: something\r\n"), K::kExpectationFailed},
      {"expect_continue_and_other", withHost("Expect: 100-continue, x\r\n"), K::kExpectationFailed},
  };
}

class HardeningTest : public ::testing::TestWithParam<Case> {};

TEST_P(HardeningTest, DecidedAsDocumented) {
  const Case& c = GetParam();
  RequestHead whole, trickled;
  const Outcome a = parseAll(c.raw, whole);
  const Outcome b = parseTrickled(c.raw, trickled);
  if (c.expected == K::kNone) {
    EXPECT_EQ(a.status, RequestParser::Status::kDone) << parseErrorName(a.kind);
  } else {
    EXPECT_EQ(a.status, RequestParser::Status::kError);
    EXPECT_STREQ(parseErrorName(a.kind), parseErrorName(c.expected));
  }
  // §18: the same bytes split into 1-byte segments are decided the same way.
  EXPECT_EQ(b.status, a.status);
  EXPECT_EQ(b.kind, a.kind);
}

INSTANTIATE_TEST_SUITE_P(Http, HardeningTest, ::testing::ValuesIn(hardeningCases()),
                         [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(RequestParser, SimpleGet) {
  const std::string raw =
      "GET /wiki/Main?x=1 HTTP/1.1\r\nHost: Example.org:8080\r\nAccept: */*\r\n\r\n";
  RequestParser parser(ParseLimits{});
  RequestHead head;
  ASSERT_EQ(parser.parse(raw, head), RequestParser::Status::kDone);
  EXPECT_EQ(parser.headBytes(), raw.size());
  EXPECT_EQ(head.method, Method::kGet);
  EXPECT_EQ(head.method_text, "GET");
  EXPECT_EQ(head.target_form, TargetForm::kOrigin);
  EXPECT_EQ(head.path, "/wiki/Main?x=1");
  EXPECT_EQ(head.authority, "Example.org:8080");
  EXPECT_EQ(head.version, Version::kHttp11);
  EXPECT_EQ(head.framing, BodyFraming::kNone);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.expect_continue);
  ASSERT_EQ(head.fields.size(), 2u);
  EXPECT_EQ(head.fields.all()[1].name, "Accept");
  EXPECT_EQ(head.fields.all()[1].value, "*/*");
}

TEST(RequestParser, FramingMeaning) {
  RequestHead head;
  ASSERT_EQ(parseAll(withHost("Content-Length: 0005\r\n"), head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(head.content_length, 5u);
  ASSERT_EQ(parseAll(withHost("Content-Length: 5, 5\r\n"), head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.content_length, 5u);
  ASSERT_EQ(parseAll(withHost("TrAnSFer-EnCODinG: cHuNkeD\r\n"), head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kChunked);
  // Transfer_Encoding is an opaque field, never framing.
  ASSERT_EQ(parseAll(withHost("Transfer_Encoding: chunked\r\n"), head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kNone);
  const std::string content_encoding = withHost("Content-Encoding: chunked\r\n");
  ASSERT_EQ(parseAll(content_encoding, head).status, RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kNone);
  EXPECT_EQ(head.fields.get("content-encoding"), "chunked");
}

TEST(RequestParser, AbsoluteFormAuthorityWinsOverHost) {
  RequestHead head;
  ASSERT_EQ(parseAll("GET HTTP://evil:81 HTTP/1.1\r\nHost: good\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.target_form, TargetForm::kAbsolute);
  EXPECT_EQ(head.scheme, "HTTP");
  EXPECT_EQ(head.authority, "evil:81");
  EXPECT_EQ(head.path, "/");
  ASSERT_EQ(parseAll("GET https://[::1]:8443/p?q HTTP/1.1\r\nHost: good\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.authority, "[::1]:8443");
  EXPECT_EQ(head.path, "/p?q");
  // Host must still be valid even though it loses.
  EXPECT_EQ(parseAll("GET http://evil/ HTTP/1.1\r\nHost: a b\r\n\r\n", head).kind, K::kBadHost);
}

TEST(RequestParser, FieldsWithTheLengthsOfFramingNamesAreReadByName) {
  // deriveSemantics skips the framing, Expect and Connection readings when no field name has
  // their lengths; names of those lengths that are something else must change nothing.
  RequestHead head;
  ASSERT_EQ(parseAll("GET / HTTP/1.1\r\nHost: a\r\nX-Seventeen-Chars: 1\r\nX-Fourteen-Chr: 2\r\n"
                     "X-Six1: 3\r\nX-Ten-Char: 4\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kNone);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.expect_continue);
  ASSERT_EQ(parseAll("POST / HTTP/1.1\r\nHost: a\r\nCONTENT-LENGTH: 5\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(head.content_length, 5u);
  ASSERT_EQ(parseAll("POST / HTTP/1.1\r\nHost: a\r\nTransfer-ENCODING: chunked\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kChunked);
  ASSERT_EQ(parseAll("GET / HTTP/1.1\r\nHost: a\r\nCONNECTION: close\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(parseAll("GET / HTTP/1.0\r\nX-Ten-Char: keep-alive\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_FALSE(head.keep_alive);
}

TEST(RequestParser, KeepAliveAndExpect) {
  RequestHead head;
  ASSERT_EQ(parseAll("GET / HTTP/1.0\r\n\r\n", head).status, RequestParser::Status::kDone);
  EXPECT_FALSE(head.keep_alive);
  EXPECT_TRUE(head.authority.empty());
  ASSERT_EQ(parseAll("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_TRUE(head.keep_alive);
  ASSERT_EQ(parseAll("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(parseAll(withHost("Expect: 100-Continue\r\nContent-Length: 3\r\n"), head).status,
            RequestParser::Status::kDone);
  EXPECT_TRUE(head.expect_continue);
  // RFC 9110 §10.1.1: ignored for HTTP/1.0.
  ASSERT_EQ(parseAll("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", head).status,
            RequestParser::Status::kDone);
  EXPECT_FALSE(head.expect_continue);
}

TEST(RequestParser, StatusForEveryLimit) {
  ParseLimits limits;
  limits.max_request_line = 64;
  limits.max_field_size = 64;
  limits.max_field_count = 4;
  limits.max_header_bytes = 200;
  limits.max_body_bytes = 100;
  RequestHead head;
  Outcome o =
      parseAll("GET /" + std::string(70, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", head, limits);
  EXPECT_EQ(o.kind, K::kUriTooLong);
  EXPECT_EQ(statusForParseError(o.kind), 414);
  o = parseAll("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(70, 'v') + "\r\n\r\n", head,
               limits);
  EXPECT_EQ(o.kind, K::kFieldTooLarge);
  EXPECT_EQ(statusForParseError(o.kind), 431);
  o = parseAll("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", head, limits);
  EXPECT_EQ(o.kind, K::kTooManyFields);
  EXPECT_EQ(statusForParseError(o.kind), 431);
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 3; ++i) big += "X: " + std::string(55, 'v') + "\r\n";
  o = parseAll(big + "\r\n", head, limits);
  EXPECT_EQ(o.kind, K::kHeaderTooLarge);
  EXPECT_EQ(statusForParseError(o.kind), 431);
  o = parseAll(withHost("Content-Length: 101\r\n"), head, limits);
  EXPECT_EQ(o.kind, K::kBodyTooLarge);
  EXPECT_EQ(statusForParseError(o.kind), 413);
  EXPECT_EQ(parseAll(withHost("Content-Length: 100\r\n"), head, limits).status,
            RequestParser::Status::kDone);
  EXPECT_EQ(statusForParseError(K::kExpectationFailed), 417);
  EXPECT_EQ(statusForParseError(K::kUnsupportedTransferCoding), 501);
  EXPECT_EQ(statusForParseError(K::kUnsupportedVersion), 505);
  EXPECT_EQ(statusForParseError(K::kBadHost), 400);
}

TEST(RequestParser, LimitsFireBeforeTheHeadEnds) {
  // A long header section without CRLFCRLF fails at the limit, it does not wait for the end.
  ParseLimits limits;
  RequestParser parser(limits);
  RequestHead head;
  std::string buffer = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  RequestParser::Status status = parser.parse(buffer, head);
  while (status == RequestParser::Status::kNeedMore && buffer.size() < (1u << 20)) {
    buffer.append(1024, 'v');
    status = parser.parse(buffer, head);
  }
  EXPECT_EQ(status, RequestParser::Status::kError);
  EXPECT_EQ(parser.error().kind, K::kFieldTooLarge);
  EXPECT_LE(buffer.size(), limits.max_field_size + 2048);

  RequestParser line_parser(limits);
  std::string line = "GET /";
  status = line_parser.parse(line, head);
  while (status == RequestParser::Status::kNeedMore && line.size() < (1u << 20)) {
    line.append(512, 'a');
    status = line_parser.parse(line, head);
  }
  EXPECT_EQ(line_parser.error().kind, K::kUriTooLong);
  EXPECT_LE(line.size(), limits.max_request_line + 1024);

  // Many small fields: the whole-section limit fires while they arrive.
  limits.max_field_count = 100000;
  RequestParser many(limits);
  std::string fields = "GET / HTTP/1.1\r\nHost: a\r\n";
  status = many.parse(fields, head);
  while (status == RequestParser::Status::kNeedMore && fields.size() < (1u << 20)) {
    fields += "X-Field: value\r\n";
    status = many.parse(fields, head);
  }
  EXPECT_EQ(many.error().kind, K::kHeaderTooLarge);
  EXPECT_LE(fields.size(), limits.max_header_bytes + 64);
}

TEST(RequestParser, LimitDecisionDoesNotDependOnTheSplit) {
  // Found by fuzzing: a too-long line that also holds a bare CR (or a bare LF) after the limit
  // must be "too long" however the bytes arrive, and the earliest exceeded limit wins.
  ParseLimits limits;
  limits.max_request_line = 32;
  limits.max_field_size = 32;
  limits.max_header_bytes = 80;
  const std::vector<std::string> inputs = {
      "GET /" + std::string(40, 'a') + "\r" + " HTTP/1.1\r\n\r\n",
      "GET /" + std::string(40, 'a') + "\n",
      "GET / HTTP/1.1\r\nX: " + std::string(40, 'v') + "\rY\r\n\r\n",
      "GET / HTTP/1.1\r\nX: " + std::string(28, 'v') + "\r\nY: " + std::string(30, 'v') + "\n",
      "GET / HTTP/1.1\r\nX: " + std::string(29, 'v') + "\r\r\n",
  };
  for (const std::string& raw : inputs) {
    RequestHead a, b;
    const Outcome whole = parseAll(raw, a, limits);
    const Outcome trickled = parseTrickled(raw, b, limits);
    EXPECT_EQ(whole.status, RequestParser::Status::kError) << raw;
    EXPECT_EQ(trickled.kind, whole.kind) << raw;
  }
  RequestHead head;
  EXPECT_EQ(parseAll("GET /" + std::string(40, 'a') + "\r", head, limits).kind, K::kUriTooLong);
  EXPECT_EQ(parseAll("GET / HTTP/1.1\r\nX: " + std::string(40, 'v') + "\rY\r\n", head, limits).kind,
            K::kFieldTooLarge);
}

TEST(RequestParser, PipelinedRequestsInOneBuffer) {
  const std::string raw =
      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
      "GET /b HTTP/1.1\r\nHost: b\r\n\r\n";
  RequestParser parser(ParseLimits{});
  RequestHead head;
  ASSERT_EQ(parser.parse(raw, head), RequestParser::Status::kDone);
  EXPECT_EQ(head.path, "/a");
  std::string_view rest = std::string_view(raw).substr(parser.headBytes());
  BodyDecoder body;
  body.start(head.framing, head.content_length, ParseLimits{}, true);
  auto step = body.decode(rest);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->data, "hello");
  EXPECT_TRUE(step->done);
  rest.remove_prefix(step->consumed);
  parser.reset();
  ASSERT_EQ(parser.parse(rest, head), RequestParser::Status::kDone);
  EXPECT_EQ(head.path, "/b");
  EXPECT_EQ(head.authority, "b");
  EXPECT_EQ(parser.headBytes(), rest.size());
}

TEST(RequestParser, GetBodyIsNeverTheNextRequest) {
  // Hardening A8: the CL body of a GET is body, even when it looks like a request.
  const std::string smuggled = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string raw =
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(smuggled.size()) +
      "\r\n\r\n" + smuggled;
  RequestParser parser(ParseLimits{});
  RequestHead head;
  ASSERT_EQ(parser.parse(raw, head), RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, BodyFraming::kContentLength);
  BodyDecoder body;
  body.start(head.framing, head.content_length, ParseLimits{}, true);
  auto step = body.decode(std::string_view(raw).substr(parser.headBytes()));
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->data, smuggled);
  EXPECT_TRUE(step->done);
}

TEST(RequestParser, PipelineTrickledByteByByteMatchesWhole) {
  const std::string raw =
      "\r\nPUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
      "3;e=\"q\"\r\nabc\r\n0\r\nT: v\r\n\r\n"
      "GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
      "HEAD http://o/z HTTP/1.1\r\nHost: h\r\n\r\n";
  struct Seen {
    std::string method, path, authority, body;
    bool keep_alive;
    bool operator==(const Seen&) const = default;
  };
  // Reads every message, delivering at most `step` new bytes per call into a growing buffer.
  auto run = [&](size_t step) {
    std::vector<Seen> seen;
    std::string buffer;
    size_t fed = 0;
    RequestParser parser(ParseLimits{});
    BodyDecoder body;
    RequestHead head;
    bool in_body = false;
    Seen current;
    while (true) {
      if (!in_body) {
        RequestParser::Status status = parser.parse(buffer, head);
        if (status == RequestParser::Status::kError) {
          ADD_FAILURE() << parseErrorName(parser.error().kind);
          return seen;
        }
        if (status == RequestParser::Status::kDone) {
          current = {std::string(head.method_text), std::string(head.path),
                     std::string(head.authority), "", head.keep_alive};
          body.start(head.framing, head.content_length, ParseLimits{}, true);
          buffer.erase(0, parser.headBytes());
          parser.reset();
          in_body = true;
          continue;
        }
      } else {
        auto r = body.decode(buffer);
        if (!r.ok()) {
          ADD_FAILURE() << r.error().describe();
          return seen;
        }
        current.body += r->data;
        buffer.erase(0, r->consumed);
        if (r->done) {
          seen.push_back(current);
          in_body = false;
          continue;
        }
        if (r->consumed > 0) continue;
      }
      if (fed == raw.size()) return seen;
      const size_t n = std::min(step, raw.size() - fed);
      buffer.append(raw, fed, n);
      fed += n;
    }
  };
  const std::vector<Seen> whole = run(raw.size());
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_EQ(whole[0].body, "abc");
  EXPECT_EQ(whole[1].path, "/y");
  EXPECT_TRUE(whole[1].keep_alive);
  EXPECT_EQ(whole[2].authority, "o");
  EXPECT_EQ(run(1), whole);
  EXPECT_EQ(run(7), whole);
}

TEST(RequestParser, ErrorIsSticky) {
  RequestParser parser(ParseLimits{});
  RequestHead head;
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\nHost", head), RequestParser::Status::kError);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\nHost: a\r\n\r\n", head), RequestParser::Status::kError);
  parser.reset();
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", head), RequestParser::Status::kDone);
}

TEST(RequestParser, ErrorNamesAreSnakeCase) {
  for (int k = 0; k <= static_cast<int>(K::kTruncatedBody); ++k) {
    const std::string name = parseErrorName(static_cast<K>(k));
    EXPECT_NE(name, "unknown");
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
}

}  // namespace
}  // namespace ec::http

namespace ec::http {
namespace {

// Field lines are checked for control bytes sixteen at a time: a bad byte is found wherever it
// sits (first block, middle, the overlapping last block, a short line) and named the same way
// as by the byte-by-byte reading.
TEST(RequestParser, ControlBytesAreFoundAtEveryPositionOfLongAndShortFieldLines) {
  for (size_t length : {1u, 7u, 15u, 16u, 17u, 31u, 32u, 33u, 100u}) {
    for (size_t at = 0; at < length; ++at) {
      for (char bad : {'\x01', '\x7f', '\x00', '\r'}) {
        std::string value(length, 'v');
        value[at] = bad;
        const std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX-Test: " + value + "\r\n\r\n";
        RequestHead head;
        const Outcome outcome = parseAll(raw, head);
        ASSERT_EQ(outcome.status, RequestParser::Status::kError) << length << " at " << at;
        EXPECT_EQ(outcome.kind, bad == '\r' ? K::kBadLineEnding : K::kBadFieldValue)
            << length << " at " << at << " byte " << int(bad);
      }
      std::string with_tab(length, 'v');
      with_tab[at] = '\t';
      RequestHead head;
      const std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX-Test: a" + with_tab + "\r\n\r\n";
      EXPECT_EQ(parseAll(raw, head).status, RequestParser::Status::kDone) << "HTAB is allowed";
    }
  }
  // In the name, a control byte is a bad name; a CR anywhere is a bad line ending.
  RequestHead head;
  EXPECT_EQ(parseAll("GET / HTTP/1.1\r\nHost: h\r\nX-Long-Field\x01Name-Here: v\r\n\r\n", head).kind,
            K::kBadFieldName);
  EXPECT_EQ(parseAll("GET / HTTP/1.1\r\nHost: h\r\n X-Folded\r: v\r\n\r\n", head).kind,
            K::kBadLineEnding);
  // Obs-text (bytes 0x80-0xFF) stays allowed in values.
  EXPECT_EQ(parseAll("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 and more bytes here\r\n\r\n", head)
                .status,
            RequestParser::Status::kDone);
}

}  // namespace
}  // namespace ec::http
