// The JSON line: every webrequest field present with its type, and hostile bytes escaped so
// that a real JSON parser (Python's, run as a subprocess) reads back exactly what was sent.

#include "accesslog/access_record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace ec::accesslog {
namespace {

AccessRecord sampleRecord() {
  AccessRecord record;
  record.hostname = "cp3050.esams.wmnet";
  record.sequence = 42;
  record.dt_epoch_seconds = 1764092682;  // 2025-11-25T17:44:42Z
  record.time_firstbyte = 0.000123;
  record.ip = "192.0.2.7";
  record.cache_status = "hit-front";
  record.http_status = 200;
  record.response_size = 1234;
  record.http_method = "GET";
  record.uri_host = "en.wikipedia.org";
  record.uri_path = "/wiki/Main_Page";
  record.uri_query = "?action=raw";
  record.content_type = "text/html; charset=UTF-8";
  record.user_agent = "curl/8.0";
  record.x_cache = "cp3050 hit";
  return record;
}

// Runs python3 on `lines`: parses each line as JSON and prints, per line, the keys in order
// and then each value as JSON with ensure_ascii (a canonical form the test can compare).
std::string pythonRoundTrip(const std::string& lines) {
  const std::string in_path = testing::TempDir() + "access_record_in.jsonl";
  const std::string out_path = testing::TempDir() + "access_record_out.txt";
  {
    std::ofstream out(in_path, std::ios::binary);
    out << lines;
  }
  const std::string script =
      "import json,sys\n"
      "for raw in open(sys.argv[1],'rb').read().split(b'\\n')[:-1]:\n"
      "  obj=json.loads(raw.decode('utf-8'))\n"
      "  print(','.join(obj.keys()))\n"
      "  for k,v in obj.items(): print(k+'='+json.dumps(v,ensure_ascii=True))\n";
  const std::string script_path = testing::TempDir() + "access_record_check.py";
  {
    std::ofstream out(script_path);
    out << script;
  }
  const std::string command =
      "/usr/bin/python3 " + script_path + " " + in_path + " > " + out_path + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(out_path);
  std::ostringstream text;
  text << in.rdbuf();
  if (status != 0) return "PYTHON FAILED: " + text.str();
  return text.str();
}

TEST(AccessRecordTest, RendersEveryWebrequestFieldInOrder) {
  std::string line;
  appendJsonLine(sampleRecord(), line);
  EXPECT_EQ(line,
            "{\"hostname\":\"cp3050.esams.wmnet\",\"sequence\":42,\"dt\":\"2025-11-25T17:44:42Z\","
            "\"time_firstbyte\":0.000123,\"ip\":\"192.0.2.7\",\"cache_status\":\"hit-front\","
            "\"http_status\":200,\"response_size\":1234,\"http_method\":\"GET\","
            "\"uri_host\":\"en.wikipedia.org\",\"uri_path\":\"/wiki/Main_Page\","
            "\"uri_query\":\"?action=raw\",\"content_type\":\"text/html; charset=UTF-8\","
            "\"referer\":\"-\",\"user_agent\":\"curl/8.0\",\"accept_language\":\"-\","
            "\"x_analytics\":\"-\",\"range\":\"-\",\"x_cache\":\"cp3050 hit\",\"accept\":\"-\","
            "\"backend\":\"-\",\"tls\":\"-\"}\n");
}

TEST(AccessRecordTest, EmptyQueryIsEmptyStringNotDash) {
  AccessRecord record = sampleRecord();
  record.uri_query = {};
  std::string line;
  appendJsonLine(record, line);
  EXPECT_NE(line.find("\"uri_query\":\"\","), std::string::npos) << line;
}

TEST(AccessRecordTest, EscapesQuotesBackslashesAndControlBytes) {
  std::string out;
  appendJsonEscaped("a\"b\\c\nd\re\tf\x01g\x7fh\x1f", out);
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh\\u001f");
}

TEST(AccessRecordTest, KeepsValidUtf8AndEscapesInvalidBytes) {
  std::string out;
  appendJsonEscaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", out);
  EXPECT_EQ(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  out.clear();
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, 0xff.
  appendJsonEscaped("\x80|\xc3|\xc0\xaf|\xed\xa0\x80|\xff", out);
  EXPECT_EQ(out, "\\u0080|\\u00c3|\\u00c0\\u00af|\\u00ed\\u00a0\\u0080|\\u00ff");
}

TEST(AccessRecordTest, TruncatesLongValuesAtACharacterBoundary) {
  std::string value(kMaxFieldBytes - 1, 'a');
  value += "\xc3\xa9tail";
  std::string out;
  appendJsonEscaped(value, out);
  EXPECT_EQ(out, std::string(kMaxFieldBytes - 1, 'a'));  // the 2-byte character would cross
}

TEST(AccessRecordTest, HostileHeadersParseBackExactly) {
  AccessRecord record = sampleRecord();
  const std::string hostile_agent = "Mozilla \"x\"\\ \x01\x1b[31m\n\r\t{}],";
  const std::string invalid = "bad \xff\xfe utf8 \xc3";
  record.user_agent = hostile_agent;
  record.referer = invalid;
  record.uri_path = "/wiki/\xe2\x82\xac\"";
  std::string line;
  appendJsonLine(record, line);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line only";
  const std::string parsed = pythonRoundTrip(line);
  EXPECT_NE(parsed.find("hostname,sequence,dt,time_firstbyte,ip,cache_status,http_status,"
                        "response_size,http_method,uri_host,uri_path,uri_query,content_type,"
                        "referer,user_agent,accept_language,x_analytics,range,x_cache,accept,"
                        "backend,tls\n"),
            std::string::npos)
      << parsed;
  EXPECT_NE(parsed.find("user_agent=\"Mozilla \\\"x\\\"\\\\ \\u0001\\u001b[31m\\n\\r\\t{}],\"\n"),
            std::string::npos)
      << parsed;
  EXPECT_NE(parsed.find("referer=\"bad \\u00ff\\u00fe utf8 \\u00c3\"\n"), std::string::npos) << parsed;
  EXPECT_NE(parsed.find("uri_path=\"/wiki/\\u20ac\\\"\"\n"), std::string::npos) << parsed;
  EXPECT_NE(parsed.find("sequence=42\n"), std::string::npos) << parsed;
  EXPECT_NE(parsed.find("http_status=200\n"), std::string::npos) << parsed;
  EXPECT_NE(parsed.find("time_firstbyte=0.000123\n"), std::string::npos) << parsed;
}

// Values are scanned sixteen bytes at a time for bytes to escape: wherever a special byte sits
// in a long value (first block, a later one, the tail), the output is the byte-by-byte one.
TEST(AccessRecord, EscapesSpecialBytesAtEveryPositionOfLongValues) {
  auto reference = [](std::string_view value) {
    std::string out;
    for (char c : value) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\x01': out += "\\u0001"; break;
        case '\x7f': out += "\\u007f"; break;
        default: out += c;
      }
    }
    return out;
  };
  for (size_t length : {15u, 16u, 17u, 40u, 64u}) {
    for (size_t at = 0; at < length; ++at) {
      for (char special : {'"', '\\', '\n', '\x01', '\x7f'}) {
        std::string value(length, 'a');
        value[at] = special;
        std::string out;
        appendJsonEscaped(value, out);
        ASSERT_EQ(out, reference(value)) << length << " at " << at << " byte " << int(special);
      }
    }
  }
}

TEST(AccessRecord, TimeFirstbyteHasSixDecimalsLikePrintf) {
  for (double seconds : {0.0, 0.5, 0.000123, 0.0000004, 1.25, 12.3456789, 3600.0}) {
    AccessRecord record = sampleRecord();
    record.time_firstbyte = seconds;
    std::string line;
    appendJsonLine(record, line);
    char expected[64];
    std::snprintf(expected, sizeof expected, "\"time_firstbyte\":%.6f,", seconds);
    EXPECT_NE(line.find(expected), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace ec::accesslog
