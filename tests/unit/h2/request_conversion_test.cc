#include "h2/request_conversion.h"

#include <gtest/gtest.h>

#include "http/request_parser.h"

namespace ec::h2 {
namespace {

std::vector<HeaderField> basic() {
  return {{":method", "GET"}, {":scheme", "https"}, {":authority", "en.wiki.test"},
          {":path", "/wiki/Main?x=1"}, {"accept", "*/*"}};
}

DowngradeError convert(const std::vector<HeaderField>& fields, ConvertedRequest& out,
                       std::optional<uint64_t> body = 0) {
  return convertRequest(fields, body, out);
}

TEST(RequestConversion, BuildsACanonicalHeadTheStrictParserAccepts) {
  ConvertedRequest out;
  auto fields = basic();
  fields.push_back({"cookie", "a=1"});
  fields.push_back({"cookie", "b=2"});
  fields.push_back({"te", "trailers"});
  ASSERT_EQ(convert(fields, out), DowngradeError::kNone);
  EXPECT_EQ(out.head,
            "GET /wiki/Main?x=1 HTTP/1.1\r\nHost: en.wiki.test\r\naccept: */*\r\n"
            "cookie: a=1; b=2\r\n\r\n");
  http::ParseLimits limits;
  http::RequestParser parser(limits);
  http::RequestHead head;
  ASSERT_EQ(parser.parse(out.head, head), http::RequestParser::Status::kDone);
  EXPECT_EQ(head.authority, "en.wiki.test");
  EXPECT_EQ(head.path, "/wiki/Main?x=1");
}

TEST(RequestConversion, AnEmptyGetOrHeadCarriesNoContentLengthUnlessTheClientSentOne) {
  ConvertedRequest out;
  auto fields = basic();
  ASSERT_EQ(convert(fields, out, 0), DowngradeError::kNone);
  EXPECT_EQ(out.head.find("Content-Length"), std::string::npos) << out.head;
  EXPECT_FALSE(out.has_body);
  fields[0].value = "HEAD";
  ASSERT_EQ(convert(fields, out, 0), DowngradeError::kNone);
  EXPECT_EQ(out.head.find("Content-Length"), std::string::npos) << out.head;
  fields.push_back({"content-length", "0"});  // the client's own: kept
  ASSERT_EQ(convert(fields, out, 0), DowngradeError::kNone);
  EXPECT_NE(out.head.find("Content-Length: 0\r\n"), std::string::npos) << out.head;
  fields.pop_back();
  fields[0].value = "POST";  // a method that anticipates content: the length is said
  ASSERT_EQ(convert(fields, out, 0), DowngradeError::kNone);
  EXPECT_NE(out.head.find("Content-Length: 0\r\n"), std::string::npos) << out.head;
  EXPECT_FALSE(out.has_body);
}

TEST(RequestConversion, BodyLengthComesFromTheDataTotal) {
  ConvertedRequest out;
  auto fields = basic();
  fields[0].value = "POST";
  ASSERT_EQ(convert(fields, out, 5), DowngradeError::kNone);
  EXPECT_NE(out.head.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_TRUE(out.has_body);
  fields.push_back({"content-length", "6"});
  EXPECT_EQ(convert(fields, out, 5), DowngradeError::kBadContentLength);
  fields.back().value = "5";
  EXPECT_EQ(convert(fields, out, 5), DowngradeError::kNone);
  fields.back().value = "+5";
  EXPECT_EQ(convert(fields, out, std::nullopt), DowngradeError::kBadContentLength);
}

TEST(RequestConversion, AStreamedBodyIsChunkedUnlessALengthIsDeclared) {
  ConvertedRequest out;
  auto fields = basic();
  fields[0].value = "POST";
  ASSERT_EQ(convertRequest(fields, std::nullopt, out, /*body_follows=*/true), DowngradeError::kNone);
  EXPECT_NE(out.head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << out.head;
  EXPECT_EQ(out.head.find("Content-Length"), std::string::npos) << out.head;
  EXPECT_TRUE(out.has_body);
  http::ParseLimits limits;
  http::RequestParser parser(limits);
  http::RequestHead head;
  ASSERT_EQ(parser.parse(out.head, head), http::RequestParser::Status::kDone);
  EXPECT_EQ(head.framing, http::BodyFraming::kChunked);

  fields.push_back({"content-length", "1000"});
  ASSERT_EQ(convertRequest(fields, std::nullopt, out, true), DowngradeError::kNone);
  EXPECT_NE(out.head.find("Content-Length: 1000\r\n"), std::string::npos) << out.head;
  EXPECT_EQ(out.head.find("Transfer-Encoding"), std::string::npos) << out.head;
}

struct Case {
  const char* name;
  std::vector<HeaderField> fields;
  DowngradeError expected;
};

class Refused : public ::testing::TestWithParam<Case> {};

TEST_P(Refused, WithItsReason) {
  ConvertedRequest out;
  EXPECT_EQ(convert(GetParam().fields, out), GetParam().expected) << GetParam().name;
}

std::vector<HeaderField> with(std::vector<HeaderField> fields, HeaderField extra) {
  fields.push_back(std::move(extra));
  return fields;
}
std::vector<HeaderField> replaced(size_t index, std::string value) {
  auto fields = basic();
  fields[index].value = std::move(value);
  return fields;
}

INSTANTIATE_TEST_SUITE_P(
    HardeningF, Refused,
    ::testing::Values(
        Case{"crlf_in_value", with(basic(), {"foo", "bar\r\nTransfer-Encoding: chunked"}), DowngradeError::kBadFieldValue},
        Case{"nul_in_value", with(basic(), {"foo", std::string("a\0b", 3)}), DowngradeError::kBadFieldValue},
        Case{"leading_space", with(basic(), {"foo", " bar"}), DowngradeError::kBadFieldValue},
        Case{"trailing_tab", with(basic(), {"foo", "bar\t"}), DowngradeError::kBadFieldValue},
        Case{"uppercase_name", with(basic(), {"Foo", "bar"}), DowngradeError::kBadFieldName},
        Case{"space_in_name", with(basic(), {"fo o", "bar"}), DowngradeError::kBadFieldName},
        Case{"connection", with(basic(), {"connection", "close"}), DowngradeError::kConnectionSpecific},
        Case{"keep_alive", with(basic(), {"keep-alive", "5"}), DowngradeError::kConnectionSpecific},
        Case{"transfer_encoding", with(basic(), {"transfer-encoding", "chunked"}), DowngradeError::kConnectionSpecific},
        Case{"upgrade", with(basic(), {"upgrade", "h2c"}), DowngradeError::kConnectionSpecific},
        Case{"proxy_connection", with(basic(), {"proxy-connection", "x"}), DowngradeError::kConnectionSpecific},
        Case{"te_gzip", with(basic(), {"te", "gzip"}), DowngradeError::kConnectionSpecific},
        Case{"method_with_space", replaced(0, "GET /x HTTP/1.1\r\nX:"), DowngradeError::kBadMethod},
        Case{"connect", replaced(0, "CONNECT"), DowngradeError::kBadMethod},
        Case{"path_with_space", replaced(3, "/a b"), DowngradeError::kBadPath},
        Case{"path_with_crlf", replaced(3, "/a\r\nHost: evil"), DowngradeError::kBadPath},
        Case{"path_not_slash", replaced(3, "a/b"), DowngradeError::kBadPath},
        Case{"path_star_get", replaced(3, "*"), DowngradeError::kBadPath},
        Case{"path_fragment", replaced(3, "/a#b"), DowngradeError::kBadPath},
        Case{"scheme", replaced(1, "ftp"), DowngradeError::kBadScheme},
        Case{"authority_userinfo", replaced(2, "user@en.wiki.test"), DowngradeError::kBadAuthority},
        Case{"authority_vs_host", with(basic(), {"host", "evil.test"}), DowngradeError::kBadAuthority},
        Case{"pseudo_after_regular", with(basic(), {":path", "/"}), DowngradeError::kPseudoHeader},
        Case{"unknown_pseudo", std::vector<HeaderField>{{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":protocol", "x"}}, DowngradeError::kPseudoHeader},
        Case{"duplicate_path", std::vector<HeaderField>{{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":path", "/b"}}, DowngradeError::kPseudoHeader},
        Case{"missing_path", std::vector<HeaderField>{{":method", "GET"}, {":scheme", "https"}}, DowngradeError::kPseudoHeader}),
    [](const ::testing::TestParamInfo<Case>& case_info) { return std::string(case_info.param.name); });

TEST(RequestConversion, HostHeaderAloneIsTheAuthority) {
  ConvertedRequest out;
  std::vector<HeaderField> fields{{":method", "GET"}, {":scheme", "https"}, {":path", "/"},
                                  {"host", "en.wiki.test"}};
  ASSERT_EQ(convert(fields, out), DowngradeError::kNone);
  EXPECT_EQ(out.head.rfind("GET / HTTP/1.1\r\nHost: en.wiki.test\r\n", 0), 0u);
}

}  // namespace
}  // namespace ec::h2
