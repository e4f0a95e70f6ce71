#include "http/syntax.h"

#include <gtest/gtest.h>

#include <string>

namespace ec::http {
namespace {

TEST(Syntax, Authorities) {
  for (std::string_view ok : {"a", "A", "a:80", "a.", "example.org:65535", "1.2.3.4:8080", "[::1]",
                              "[2001:db8::1]:443", "x_y-z.~"}) {
    EXPECT_TRUE(isValidAuthority(ok)) << ok;
  }
  for (std::string_view bad :
       {"", "a, b", "a,b", "a@b", "a:80:80", "a:", ":80", "a:65536", "a:123456", "[::1", "[v1.x]",
        "[]", "a b", "a/b", "a%20b", "[::1]x", "caf\xc3\xa9"}) {
    EXPECT_FALSE(isValidAuthority(bad)) << bad;
  }
}

TEST(Syntax, Tokens) {
  EXPECT_TRUE(isToken("GET"));
  EXPECT_TRUE(isToken("x-custom_method!"));
  EXPECT_FALSE(isToken(""));
  EXPECT_FALSE(isToken("a b"));
  EXPECT_FALSE(isToken("a:b"));
  EXPECT_FALSE(isToken("\"q\""));
}

TEST(Syntax, ContentLengthAcrossLines) {
  Fields fields;
  EXPECT_EQ(readContentLength(fields).state, ContentLength::State::kAbsent);
  fields.add("Content-Length", "7");
  fields.add("content-length", "7, 007");
  ContentLength cl = readContentLength(fields);
  EXPECT_EQ(cl.state, ContentLength::State::kValid);
  EXPECT_EQ(cl.value, 7u);
  fields.add("CONTENT-LENGTH", "8");
  EXPECT_EQ(readContentLength(fields).state, ContentLength::State::kConflicting);
  fields.add("Content-Length", "x");
  EXPECT_EQ(readContentLength(fields).state, ContentLength::State::kInvalid);
}

TEST(Syntax, TransferCodings) {
  auto read = [](std::string_view value) {
    Fields fields;
    fields.add("Transfer-Encoding", value);
    return readTransferCoding(fields);
  };
  EXPECT_EQ(read("chunked"), TransferCoding::kChunked);
  EXPECT_EQ(read("Chunked"), TransferCoding::kChunked);
  EXPECT_EQ(read(""), TransferCoding::kMalformed);
  EXPECT_EQ(read("chunked,"), TransferCoding::kMalformed);
  EXPECT_EQ(read("chunked;q=1"), TransferCoding::kMalformed);
  EXPECT_EQ(read("identity"), TransferCoding::kMalformed);
  EXPECT_EQ(read("gzip, chunked"), TransferCoding::kUnsupported);
  EXPECT_EQ(read("cow"), TransferCoding::kUnknownCoding);
  Fields none;
  EXPECT_EQ(readTransferCoding(none), TransferCoding::kAbsent);
}

TEST(Syntax, ByteScansAgreeWithTheirPerBytePredicatesAtEveryPositionAndLength) {
  // The sixteen-byte steps (and the overlapping last block) against the byte predicates: every
  // byte value at every position of every length up to 40.
  for (size_t length = 1; length <= 40; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string text(length, 'a');
        text[at] = static_cast<char>(byte);
        const auto c = static_cast<unsigned char>(byte);
        ASSERT_EQ(hasControlBytes(text), !(c == '\t' || (c >= 0x20 && c != 0x7f))) << length << " " << at << " " << byte;
        ASSERT_EQ(hasNonTargetBytes(text), !isTargetByte(c)) << length << " " << at << " " << byte;
      }
    }
  }
  EXPECT_FALSE(hasControlBytes(""));
  EXPECT_FALSE(hasNonTargetBytes(""));
}

}  // namespace
}  // namespace ec::http
