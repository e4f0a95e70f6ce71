#include "http/serializer.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include <string>

#include "http/request_parser.h"

namespace ec::http {
namespace {

std::string forward(const std::string& raw, const ForwardOptions& options = {"10.0.0.9", true},
                    const Fields* extra = nullptr) {
  RequestParser parser(ParseLimits{});
  RequestHead head;
  EXPECT_EQ(parser.parse(raw, head), RequestParser::Status::kDone)
      << parseErrorName(parser.error().kind);
  std::string out;
  appendOriginRequest(out, head, options, extra);
  return out;
}

TEST(Serializer, CanonicalOriginRequest) {
  EXPECT_EQ(
      forward("GET /a?b HTTP/1.1\r\nUser-Agent: t\r\nhost: Example.org\r\nAccept: */*\r\n\r\n"),
      "GET /a?b HTTP/1.1\r\nHost: Example.org\r\nUser-Agent: t\r\nAccept: */*\r\n"
      "X-Forwarded-For: 10.0.0.9\r\n\r\n");
}

TEST(Serializer, AbsoluteFormBecomesOriginFormWithItsAuthority) {
  EXPECT_EQ(forward("GET http://evil/x HTTP/1.1\r\nHost: good\r\n\r\n"),
            "GET /x HTTP/1.1\r\nHost: evil\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n");
}

TEST(Serializer, FramingIsRewritten) {
  EXPECT_EQ(forward("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\n"),
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n");
  EXPECT_EQ(
      forward("POST / HTTP/1.1\r\nHost: a\r\nTRANSFER-ENCODING: Chunked\r\nTE: trailers\r\n\r\n"),
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "X-Forwarded-For: 10.0.0.9\r\n\r\n");
}

TEST(Serializer, HopByHopRemovedButProtectedFieldsSurvive) {
  // Hardening C17: Connection may not strip Content-Length, Host, Authorization, XFF or Cookie.
  const std::string out = forward(
      "POST / HTTP/1.1\r\nHost: a\r\nConnection: close, Content-Length, Host, Authorization, "
      "X-Forwarded-For, Cookie, X-Secret\r\nContent-Length: 3\r\nAuthorization: Basic x\r\n"
      "Cookie: c=1\r\nX-Forwarded-For: 1.2.3.4\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n"
      "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nTrailer: X\r\nProxy-Authorization: p\r\n"
      "X-Kept: k\r\n\r\n");
  EXPECT_EQ(out,
            "POST / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic x\r\nCookie: c=1\r\nX-Kept: k\r\n"
            "Content-Length: 3\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.9\r\n\r\n");
}

TEST(Serializer, UnkeyedOverridesStrippedUnlessAsked) {
  const std::string raw =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Host: evil\r\nX-Host: e\r\nX-Original-URL: /x\r\n"
      "X-Rewrite-URL: /y\r\nX-HTTP-Method-Override: DELETE\r\n\r\n";
  EXPECT_EQ(forward(raw, {"", true}), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string kept = forward(raw, {"", false});
  EXPECT_NE(kept.find("X-Forwarded-Host: evil\r\n"), std::string::npos);
  EXPECT_NE(kept.find("X-HTTP-Method-Override: DELETE\r\n"), std::string::npos);
}

TEST(Serializer, MultipleForwardedForLinesAreJoined) {
  EXPECT_EQ(
      forward("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\n"
              "x-forwarded-for: 2.2.2.2, 3.3.3.3\r\n\r\n"),
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\n\r\n");
}

TEST(Serializer, ExtraFieldsReplaceClientOnes) {
  Fields extra;
  extra.add("If-None-Match", "\"v2\"");
  EXPECT_EQ(forward("GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"client\"\r\nAccept: x\r\n\r\n",
                    {"", true}, &extra),
            "GET / HTTP/1.1\r\nHost: a\r\nAccept: x\r\nIf-None-Match: \"v2\"\r\n\r\n");
}

TEST(Serializer, RemoveHopByHopFromResponse) {
  Fields fields;
  fields.add("Connection", "close, X-Internal, Content-Length");
  fields.add("Content-Length", "3");
  fields.add("X-Internal", "secret");
  fields.add("Keep-Alive", "timeout=5");
  fields.add("Transfer-Encoding", "chunked");
  fields.add("Upgrade", "h2c");
  fields.add("Proxy-Authenticate", "Basic");
  fields.add("Cache-Control", "max-age=60");
  removeHopByHop(fields);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields.all()[0].name, "Content-Length");
  EXPECT_EQ(fields.all()[1].name, "Cache-Control");
}

TEST(Serializer, HopByHopNamesInAnyCaseAndNothingElse) {
  for (std::string name : {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                           "transfer-encoding", "upgrade", "proxy-authenticate",
                           "proxy-authorization"}) {
    EXPECT_TRUE(isHopByHopField(name)) << name;
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(isHopByHopField(name)) << name;
  }
  // Same lengths or prefixes as a hop-by-hop name, but end-to-end.
  for (const char* name : {"", "t", "tx", "tea", "trailers", "upgrade-insecure-requests",
                           "connectio", "connections", "keep-alivE2", "content-length",
                           "proxy-authenticatE1", "transfer-encodinG", "x-connection", "upgradx",
                           "proxy-status", "content-encoding"}) {
    const bool expected = std::string_view(name) == "transfer-encodinG";
    EXPECT_EQ(isHopByHopField(name), expected) << name;
  }
}

TEST(Serializer, EveryNameListedInConnectionIsRemovedEvenPastTheInlineEight) {
  Fields fields;
  std::string listed = "close";
  for (int i = 0; i < 12; ++i) listed += ", X-Hop-" + std::to_string(i);
  listed += ", Authorization";  // protected: never listed away
  fields.add("Connection", listed);
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("x-hop-" + std::to_string(i));
  for (const std::string& name : names) fields.add(name, "v");
  fields.add("Authorization", "Basic x");
  fields.add("X-Kept", "1");
  const ConnectionNames connection_names(fields);
  for (const std::string& name : names) EXPECT_TRUE(connection_names.contains(name)) << name;
  EXPECT_FALSE(connection_names.contains("x-kept"));
  removeHopByHop(fields);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields.all()[0].name, "Authorization");
  EXPECT_EQ(fields.all()[1].name, "X-Kept");

  RequestHead head;
  head.method = Method::kGet;
  head.path = "/";
  head.authority = "example.org";
  head.fields.add("Connection", listed);
  for (const std::string& name : names) head.fields.add(name, "v");
  head.fields.add("Authorization", "Basic x");
  std::string out;
  appendOriginRequest(out, head, ForwardOptions{});
  EXPECT_EQ(out.find("x-hop-"), std::string::npos) << out;
  EXPECT_NE(out.find("Authorization: Basic x\r\n"), std::string::npos) << out;
}

TEST(Serializer, ChunksAndStatusLine) {
  std::string out;
  appendChunk(out, "hello world, this is 26 b.");
  appendChunk(out, "");
  appendLastChunk(out);
  EXPECT_EQ(out, "1a\r\nhello world, this is 26 b.\r\n0\r\n\r\n");
  out.clear();
  appendStatusLine(out, 431);
  EXPECT_EQ(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
  EXPECT_EQ(reasonPhrase(304), "Not Modified");
  EXPECT_EQ(reasonPhrase(599), "Unknown");
}

TEST(Serializer, OutputParsesBackIdentically) {
  const std::string raw =
      "PUT http://Origin.example:8080/p?q=1 HTTP/1.1\r\nHost: other\r\nContent-Length: 7\r\n"
      "X-A: 1\r\nConnection: X-A\r\nX-B: 2\r\n\r\n";
  const std::string once = forward(raw, {"127.0.0.1", true});
  RequestParser parser(ParseLimits{});
  RequestHead head;
  ASSERT_EQ(parser.parse(once, head), RequestParser::Status::kDone);
  EXPECT_EQ(head.authority, "Origin.example:8080");
  EXPECT_EQ(head.content_length, 7u);
  EXPECT_FALSE(head.fields.has("x-a"));
  std::string twice;
  appendOriginRequest(twice, head, {"", true});
  EXPECT_EQ(twice, once);  // canonical: a second pass changes nothing
}

}  // namespace
}  // namespace ec::http
