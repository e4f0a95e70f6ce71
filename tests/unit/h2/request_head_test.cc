// The direct request path (h2::buildRequestHead) against the reference it replaces on the hit
// path: convertRequest() to HTTP/1.1 text, then the strict RequestParser on that text. For any
// field list, body and limits both must agree: the downgrade error, the parser's refusal (kind
// and detail), and on acceptance every member of the resulting RequestHead. The text written
// for a fetch (appendRequestText) must parse back to the same head.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "h2/request_conversion.h"
#include "http/request_parser.h"

namespace ec::h2 {
namespace {

std::vector<HeaderField> basic() {
  return {{":method", "GET"}, {":scheme", "https"}, {":authority", "en.wiki.test"},
          {":path", "/wiki/Main?x=1"}, {"accept", "*/*"}};
}

std::string describe(const std::vector<HeaderField>& fields) {
  std::string out;
  for (const HeaderField& field : fields) out += field.name + ": " + field.value + " | ";
  return out;
}

void expectSameHead(const http::RequestHead& a, const http::RequestHead& b, const std::string& what) {
  EXPECT_EQ(a.method, b.method) << what;
  EXPECT_EQ(a.method_text, b.method_text) << what;
  EXPECT_EQ(a.target, b.target) << what;
  EXPECT_EQ(a.version, b.version) << what;
  EXPECT_EQ(a.target_form, b.target_form) << what;
  EXPECT_EQ(a.scheme, b.scheme) << what;
  EXPECT_EQ(a.authority, b.authority) << what;
  EXPECT_EQ(a.path, b.path) << what;
  EXPECT_EQ(a.framing, b.framing) << what;
  EXPECT_EQ(a.content_length, b.content_length) << what;
  EXPECT_EQ(a.keep_alive, b.keep_alive) << what;
  EXPECT_EQ(a.expect_continue, b.expect_continue) << what;
  ASSERT_EQ(a.fields.size(), b.fields.size()) << what;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    EXPECT_EQ(a.fields.all()[i].name, b.fields.all()[i].name) << what;
    EXPECT_EQ(a.fields.all()[i].value, b.fields.all()[i].value) << what;
  }
}

struct Counts {
  size_t accepted = 0;
  size_t downgrade_refused = 0;
  size_t parse_refused = 0;
};

// Both paths on one input; returns what happened (for the tests' coverage checks).
enum class Outcome { kAccepted, kDowngradeRefused, kParseRefused };
Outcome agree(const std::vector<HeaderField>& fields, std::optional<uint64_t> body_length,
              bool body_follows, const http::ParseLimits& limits) {
  const std::string what = describe(fields);
  ConvertedRequest text;
  const DowngradeError via_text = convertRequest(fields, body_length, text, body_follows);
  std::string storage = "stale bytes from an earlier request";
  http::RequestHead direct;
  direct.fields.add("stale", "field");
  http::ParseError direct_error{http::ParseErrorKind::kBadTarget, "stale"};
  const DowngradeError via_direct =
      buildRequestHead(fields, body_length, body_follows, limits, storage, direct, direct_error);
  EXPECT_EQ(via_text, via_direct) << what;
  if (via_text != DowngradeError::kNone) return Outcome::kDowngradeRefused;

  http::RequestParser parser(limits);
  http::RequestHead parsed;
  const http::RequestParser::Status status = parser.parse(text.head, parsed);
  EXPECT_NE(status, http::RequestParser::Status::kNeedMore) << what;
  if (status != http::RequestParser::Status::kDone) {
    EXPECT_EQ(direct_error.kind, parser.error().kind)
        << what << " parser: " << http::parseErrorName(parser.error().kind)
        << " direct: " << http::parseErrorName(direct_error.kind);
    EXPECT_EQ(direct_error.detail, parser.error().detail) << what;
    return Outcome::kParseRefused;
  }
  EXPECT_EQ(parser.headBytes(), text.head.size()) << what;
  EXPECT_EQ(direct_error.kind, http::ParseErrorKind::kNone)
      << what << " direct: " << http::parseErrorName(direct_error.kind);
  expectSameHead(parsed, direct, what);

  // The text a fetch gets parses back to the same head, under the same limits.
  std::string again;
  appendRequestText(direct, again);
  http::RequestParser reparser(limits);
  http::RequestHead reparsed;
  EXPECT_EQ(reparser.parse(again, reparsed), http::RequestParser::Status::kDone) << what << again;
  EXPECT_EQ(reparser.headBytes(), again.size()) << what;
  expectSameHead(parsed, reparsed, what + " (re-parsed)");
  return Outcome::kAccepted;
}

TEST(RequestHeadDirect, BuildsTheHeadTheParserWouldAndNoText) {
  auto fields = basic();
  fields.push_back({"cookie", "a=1"});
  fields.push_back({"user-agent", "h2load"});
  fields.push_back({"cookie", "b=2"});
  fields.push_back({"te", "trailers"});
  http::ParseLimits limits;
  EXPECT_EQ(agree(fields, 0, false, limits), Outcome::kAccepted);
  std::string storage;
  http::RequestHead head;
  http::ParseError error;
  ASSERT_EQ(buildRequestHead(fields, 0, false, limits, storage, head, error), DowngradeError::kNone);
  EXPECT_EQ(error.kind, http::ParseErrorKind::kNone);
  EXPECT_EQ(head.authority, "en.wiki.test");
  EXPECT_EQ(head.path, "/wiki/Main?x=1");
  EXPECT_EQ(head.fields.get("cookie"), "a=1; b=2");
  EXPECT_EQ(head.framing, http::BodyFraming::kNone);
  std::string text;
  appendRequestText(head, text);
  EXPECT_EQ(text,
            "GET /wiki/Main?x=1 HTTP/1.1\r\nHost: en.wiki.test\r\naccept: */*\r\n"
            "cookie: a=1; b=2\r\nuser-agent: h2load\r\n\r\n");
}

TEST(RequestHeadDirect, TheParsersRefusalsComeThroughWithTheirKinds) {
  http::ParseLimits limits;
  http::RequestHead head;
  std::string storage;
  http::ParseError error;
  // No :authority and no host: the canonical head has an empty Host, which the parser refuses.
  std::vector<HeaderField> no_host{{":method", "GET"}, {":scheme", "https"}, {":path", "/"}};
  EXPECT_EQ(agree(no_host, 0, false, limits), Outcome::kParseRefused);
  ASSERT_EQ(buildRequestHead(no_host, 0, false, limits, storage, head, error), DowngradeError::kNone);
  EXPECT_EQ(error.kind, http::ParseErrorKind::kBadHost);
  // A host the downgrade accepts and the parser does not ("a:b:c").
  auto fields = basic();
  fields[2].value = "a:b:c";
  EXPECT_EQ(agree(fields, 0, false, limits), Outcome::kParseRefused);
  ASSERT_EQ(buildRequestHead(fields, 0, false, limits, storage, head, error), DowngradeError::kNone);
  EXPECT_EQ(http::statusForParseError(error.kind), 400);
  // Expect: anything but one 100-continue is 417; 100-continue itself is kept.
  fields = basic();
  fields.push_back({"expect", "100-continue, x"});
  EXPECT_EQ(agree(fields, 0, false, limits), Outcome::kParseRefused);
  ASSERT_EQ(buildRequestHead(fields, 0, false, limits, storage, head, error), DowngradeError::kNone);
  EXPECT_EQ(http::statusForParseError(error.kind), 417);
  fields.back().value = "100-Continue";
  EXPECT_EQ(agree(fields, 0, false, limits), Outcome::kAccepted);
  // A declared length over limits.max_body_bytes: 413 from the parser's check.
  fields = basic();
  fields[0].value = "POST";
  fields.push_back({"content-length", "2000"});
  limits.max_body_bytes = 1999;
  EXPECT_EQ(agree(fields, std::nullopt, true, limits), Outcome::kParseRefused);
  ASSERT_EQ(buildRequestHead(fields, std::nullopt, true, limits, storage, head, error),
            DowngradeError::kNone);
  EXPECT_EQ(http::statusForParseError(error.kind), 413);
}

TEST(RequestHeadDirect, EverySizeLimitAgreesWithTheScannerAtEveryValue) {
  // Each limit swept over every value around the head's own sizes: 414 for the request line,
  // 431 for a field line, the field count and the whole section, in the scanner's order.
  auto fields = basic();
  fields.push_back({"cookie", "a=1"});
  fields.push_back({"cookie", ""});  // "a=1; " trimmed by the parser
  fields.push_back({"x-long", std::string(40, 'v')});
  fields.push_back({"expect", "100-continue"});
  Counts counts;
  for (const bool post : {false, true}) {
    fields[0].value = post ? "POST" : "GET";
    for (size_t value = 0; value < 220; ++value) {
      for (int which = 0; which < 4; ++which) {
        http::ParseLimits limits;
        switch (which) {
          case 0: limits.max_request_line = value; break;
          case 1: limits.max_field_size = value; break;
          case 2: limits.max_field_count = value / 16; break;
          default: limits.max_header_bytes = value; break;
        }
        const std::optional<uint64_t> body = post ? std::optional<uint64_t>() : std::optional<uint64_t>(0);
        switch (agree(fields, body, post, limits)) {
          case Outcome::kAccepted: ++counts.accepted; break;
          case Outcome::kDowngradeRefused: ++counts.downgrade_refused; break;
          case Outcome::kParseRefused: ++counts.parse_refused; break;
        }
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
  EXPECT_GT(counts.accepted, 0u);
  EXPECT_GT(counts.parse_refused, 0u);
}

TEST(RequestHeadDirect, ALineLimitAndTheHeaderLimitTogetherAgreeWithTheScanner) {
  // Two limits at once, so that a line's limit and the section's are crossed at the same byte
  // (the scanner reports the line's then) or one just before the other.
  auto fields = basic();
  fields.push_back({"x-long", std::string(30, 'v')});
  fields.push_back({"cookie", "a=1"});
  for (size_t header = 0; header < 140; ++header) {
    for (size_t line = 0; line < 60; ++line) {
      http::ParseLimits limits;
      limits.max_header_bytes = header;
      limits.max_field_size = line;
      agree(fields, 0, false, limits);
      limits.max_field_size = 8192;
      limits.max_request_line = line;
      agree(fields, 0, false, limits);
      limits.max_request_line = 8192;
      limits.max_field_count = line / 10;
      agree(fields, 0, false, limits);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// Random field lists from a vocabulary of the cases that matter (pseudo-header order and
// repeats, host and :authority, cookies, lengths, Expect, refused names and values) under
// random limits, a fixed seed so a failure reproduces.
TEST(RequestHeadDirect, AgreesWithConvertAndParseOnRandomFieldLists) {
  std::mt19937 random(20261126);
  // Mostly from the first (well-formed) list, sometimes from the second (anything).
  const auto pick = [&random](const std::vector<std::string>& good, const std::vector<std::string>& odd) {
    if (random() % 4 != 0) return good[random() % good.size()];
    return odd[random() % odd.size()];
  };
  const std::vector<std::string> methods{"GET", "GET", "HEAD", "POST", "PUT", "OPTIONS", "PURGE"};
  const std::vector<std::string> odd_methods{"CONNECT", "get", "G T", "", "X-Y"};
  const std::vector<std::string> paths{"/", "/a?b=c", "/wiki/Main", "*"};
  const std::vector<std::string> odd_paths{"/a b", "a", "/x#y", "", std::string(70, '/')};
  const std::vector<std::string> authorities{"en.wiki.test", "en.wiki.test:443", "[::1]:8080", "x_y.test",
                                             "EN.wiki.test"};
  const std::vector<std::string> odd_authorities{"a:b:c", "a..b", "", "h:99999", "[zz]", "a@b"};
  const std::vector<std::string> names{"accept", "user-agent", "cookie", "cookie", "x-long", "content-length",
                                       "expect", "te", "host"};
  const std::vector<std::string> odd_names{"connection", "Upper", "", "a b", ":path", ":authority",
                                           "transfer-encoding"};
  const std::vector<std::string> values{"", "a", "a=1", "100-continue", "5", "0", "trailers", "en.wiki.test",
                                        std::string(50, 'q'), "\x80\xff obs", "a\tb"};
  const std::vector<std::string> odd_values{"100-Continue", "100-continue, x", "00", "+5", "18446744073709551616",
                                            "99999999999999999999", "1073741825", "EN.WIKI.TEST", " lead",
                                            "x\r\ny", std::string("a\0b", 3)};
  Counts counts;
  for (int round = 0; round < 20000 && !::testing::Test::HasFailure(); ++round) {
    std::vector<HeaderField> fields;
    if (random() % 32 != 0) fields.push_back({":method", pick(methods, odd_methods)});
    if (random() % 32 != 0) fields.push_back({":scheme", random() % 16 == 0 ? "ftp" : "https"});
    if (random() % 4 != 0) fields.push_back({":authority", pick(authorities, odd_authorities)});
    if (random() % 32 != 0) fields.push_back({":path", pick(paths, odd_paths)});
    if (random() % 16 == 0) std::swap(fields.front(), fields.back());
    const size_t extra = random() % 7;
    for (size_t i = 0; i < extra; ++i) {
      const std::string name = pick(names, odd_names);
      std::string value = pick(values, odd_values);
      if (name == "host" && random() % 2 == 0) value = pick(authorities, odd_authorities);
      fields.push_back({name, value});
    }
    http::ParseLimits limits;
    if (random() % 4 == 0) {
      limits.max_request_line = 8 + random() % 80;
      limits.max_field_size = 4 + random() % 70;
      limits.max_field_count = random() % 9;
      limits.max_header_bytes = 16 + random() % 400;
      limits.max_body_bytes = random() % 2 == 0 ? 4 : limits.max_body_bytes;
    }
    std::optional<uint64_t> body;
    switch (random() % 4) {
      case 0: body = 0; break;
      case 1: body = 5; break;
      case 2: body = 1u << 20; break;
      default: break;
    }
    const bool follows = !body && random() % 4 != 0;
    switch (agree(fields, body, follows, limits)) {
      case Outcome::kAccepted: ++counts.accepted; break;
      case Outcome::kDowngradeRefused: ++counts.downgrade_refused; break;
      case Outcome::kParseRefused: ++counts.parse_refused; break;
    }
  }
  // Every branch was reached a fair number of times.
  EXPECT_GT(counts.accepted, 300u);
  EXPECT_GT(counts.downgrade_refused, 300u);
  EXPECT_GT(counts.parse_refused, 300u);
}

TEST(RequestHeadDirect, StorageIsReusedWithoutDanglingViews) {
  // A second, longer request in the same storage: the first head's bytes are gone, the second
  // head is whole (the storage is sized before any view is taken).
  std::string storage;
  http::RequestHead head;
  http::ParseError error;
  http::ParseLimits limits;
  auto fields = basic();
  ASSERT_EQ(buildRequestHead(fields, 0, false, limits, storage, head, error), DowngradeError::kNone);
  fields.push_back({"x-big", std::string(5000, 'b')});
  ASSERT_EQ(buildRequestHead(fields, 0, false, limits, storage, head, error), DowngradeError::kNone);
  EXPECT_EQ(error.kind, http::ParseErrorKind::kNone);
  EXPECT_EQ(head.fields.get("x-big"), std::string(5000, 'b'));
  EXPECT_EQ(head.authority, "en.wiki.test");
}

}  // namespace
}  // namespace ec::h2
