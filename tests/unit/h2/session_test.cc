// Session against hand-made frames (the hostile cases of http-hardening.md §F 27) and against
// nghttp2's own client session (a normal request and response).
#include "h2/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace ec::h2 {
namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string out;
  const size_t n = payload.size();
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((stream >> 24) & 0x7f));
  out.push_back(static_cast<char>((stream >> 16) & 0xff));
  out.push_back(static_cast<char>((stream >> 8) & 0xff));
  out.push_back(static_cast<char>(stream & 0xff));
  out.append(payload);
  return out;
}

// :method GET, :scheme https, :path /, :authority en.wiki.test (static table, no indexing).
std::string requestBlock(bool post = false) {
  std::string block;
  block.push_back(static_cast<char>(post ? 0x83 : 0x82));
  block.push_back(static_cast<char>(0x87));
  block.push_back(static_cast<char>(0x84));
  block.push_back(0x01);
  block.push_back(12);
  block += "en.wiki.test";
  return block;
}

constexpr uint8_t kData = 0, kHeaders = 1, kRst = 3, kSettings = 4, kPing = 6, kContinuation = 9;
constexpr uint8_t kEndStream = 1, kEndHeaders = 4;

struct Recorder : SessionHandler {
  std::vector<std::vector<HeaderField>> requests;
  std::vector<CalmReason> calms;
  std::map<int32_t, std::string> bodies;  // response bodies to serve
  int closed = 0;
  int malformed = 0;
  std::vector<int32_t> too_large;
  void onRequestHeaders(int32_t, std::span<const HeaderField> fields, bool) override {
    requests.emplace_back(fields.begin(), fields.end());
  }
  void onRequestHeadersTooLarge(int32_t stream, bool) override { too_large.push_back(stream); }
  void onRequestData(int32_t, std::string_view) override {}
  void onRequestEnd(int32_t) override {}
  void onStreamClosed(int32_t, uint32_t) override { ++closed; }
  long readResponseBody(int32_t stream, uint8_t* buffer, size_t length, bool& eof) override {
    std::string& body = bodies[stream];
    const size_t n = std::min(length, body.size());
    std::copy(body.begin(), body.begin() + static_cast<long>(n), buffer);
    body.erase(0, n);
    eof = body.empty();
    return static_cast<long>(n);
  }
  void onCalm(CalmReason reason) override { calms.push_back(reason); }
  void onMalformed() override { ++malformed; }
};

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() : session_(recorder_, SessionLimits{}, [this] { return now_ms_; }) {
    EXPECT_TRUE(session_.start());
  }
  // Feeds the preface + an empty SETTINGS, then `frames`; returns what receive() said.
  bool feed(const std::string& frames) {
    std::string all(kPreface);
    all += frame(kSettings, 0, 0, "");
    all += frames;
    return session_.receive(all);
  }
  // True when the server's output holds GOAWAY with ENHANCE_YOUR_CALM (0xb).
  bool sentCalmGoaway() {
    std::string out;
    session_.takeOutput(out, 1 << 20);
    size_t at = 0;
    while (at + 9 <= out.size()) {
      const size_t length = (static_cast<uint8_t>(out[at]) << 16) |
                            (static_cast<uint8_t>(out[at + 1]) << 8) | static_cast<uint8_t>(out[at + 2]);
      if (out[at + 3] == 7 && length >= 8 && static_cast<uint8_t>(out[at + 9 + 7]) == 0x0b) return true;
      at += 9 + length;
    }
    return false;
  }
  // True when the server's output holds a frame of `type` on `stream`.
  bool sentFrame(uint8_t type, uint32_t stream) {
    std::string out;
    session_.takeOutput(out, 1 << 20);
    size_t at = 0;
    while (at + 9 <= out.size()) {
      const size_t length = (static_cast<uint8_t>(out[at]) << 16) |
                            (static_cast<uint8_t>(out[at + 1]) << 8) | static_cast<uint8_t>(out[at + 2]);
      const uint32_t id = (static_cast<uint32_t>(static_cast<uint8_t>(out[at + 5]) & 0x7f) << 24) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(out[at + 6])) << 16) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(out[at + 7])) << 8) |
                          static_cast<uint8_t>(out[at + 8]);
      if (static_cast<uint8_t>(out[at + 3]) == type && id == stream) return true;
      at += 9 + length;
    }
    return false;
  }
  Recorder recorder_;
  int64_t now_ms_ = 1000;
  Session session_;
};

// Header blocks share one reused buffer: a shorter block after a longer one carries only its
// own fields.
TEST_F(SessionTest, EachRequestGetsExactlyItsOwnFields) {
  std::string longer = requestBlock();
  longer += std::string("\x00\x07x-extra\x03one", 13);  // literal, not indexed
  ASSERT_TRUE(feed(frame(kHeaders, kEndStream | kEndHeaders, 1, longer) +
                   frame(kHeaders, kEndStream | kEndHeaders, 3, requestBlock())));
  ASSERT_EQ(recorder_.requests.size(), 2u);
  ASSERT_EQ(recorder_.requests[0].size(), 5u);
  EXPECT_EQ(recorder_.requests[0][4].name, "x-extra");
  EXPECT_EQ(recorder_.requests[0][4].value, "one");
  ASSERT_EQ(recorder_.requests[1].size(), 4u);
  EXPECT_EQ(recorder_.requests[1][3].name, ":authority");
  EXPECT_EQ(recorder_.requests[1][3].value, "en.wiki.test");
}

TEST_F(SessionTest, PingFloodEndsInEnhanceYourCalm) {
  std::string frames;
  for (int i = 0; i < 60; ++i) frames += frame(kPing, 0, 0, "12345678");
  EXPECT_FALSE(feed(frames));
  ASSERT_EQ(recorder_.calms.size(), 1u);
  EXPECT_EQ(recorder_.calms[0], CalmReason::kPingFlood);
  EXPECT_TRUE(sentCalmGoaway());
}

TEST_F(SessionTest, PingsAtAPoliteRateAreAnswered) {
  for (int i = 0; i < 100; ++i) {
    now_ms_ += 200;  // 5 per second, under the 10/s refill
    ASSERT_TRUE(i == 0 ? feed(frame(kPing, 0, 0, "12345678"))
                       : session_.receive(frame(kPing, 0, 0, "12345678")));
  }
  EXPECT_TRUE(recorder_.calms.empty());
}

TEST_F(SessionTest, SettingsFloodEndsInEnhanceYourCalm) {
  std::string frames;
  for (int i = 0; i < 60; ++i) frames += frame(kSettings, 0, 0, "");
  EXPECT_FALSE(feed(frames));
  ASSERT_EQ(recorder_.calms.size(), 1u);
  EXPECT_EQ(recorder_.calms[0], CalmReason::kSettingsFlood);
  EXPECT_TRUE(sentCalmGoaway());
}

TEST_F(SessionTest, ContinuationFloodEndsInEnhanceYourCalm) {
  std::string frames = frame(kHeaders, kEndStream, 1, requestBlock());
  for (int i = 0; i < 20; ++i) frames += frame(kContinuation, 0, 1, "");
  EXPECT_FALSE(feed(frames));
  ASSERT_EQ(recorder_.calms.size(), 1u);
  EXPECT_EQ(recorder_.calms[0], CalmReason::kContinuationFlood);
  EXPECT_TRUE(sentCalmGoaway());
}

TEST_F(SessionTest, HpackBombEndsInEnhanceYourCalm) {
  std::string block = requestBlock();
  // Literal with incremental indexing, new name "x", a 4000-byte value (fits the 4 KiB table),
  // then 100 one-byte references to it: 400 KB decoded from 4 KB sent.
  block.push_back(0x40);
  block.push_back(1);
  block += "x";
  block.push_back(static_cast<char>(0x7f));  // 7-bit prefix full: 127 + varint
  const uint32_t rest = 4000 - 127;
  block.push_back(static_cast<char>(0x80 | (rest & 0x7f)));
  block.push_back(static_cast<char>(rest >> 7));
  block += std::string(4000, 'v');
  for (int i = 0; i < 100; ++i) block.push_back(static_cast<char>(0x80 | 62));
  EXPECT_FALSE(feed(frame(kHeaders, kEndStream | kEndHeaders, 1, block)));
  ASSERT_EQ(recorder_.calms.size(), 1u);
  EXPECT_EQ(recorder_.calms[0], CalmReason::kHpackBomb);
  EXPECT_TRUE(sentCalmGoaway());
}

// A literal field with incremental indexing: name `name`, a `size`-byte value.
std::string indexedLiteral(std::string_view name, size_t size, char fill) {
  std::string out;
  out.push_back(0x40);
  out.push_back(static_cast<char>(name.size()));
  out += name;
  if (size < 127) {
    out.push_back(static_cast<char>(size));
  } else {
    out.push_back(static_cast<char>(0x7f));
    size_t rest = size - 127;
    while (rest >= 128) {
      out.push_back(static_cast<char>(0x80 | (rest & 0x7f)));
      rest >>= 7;
    }
    out.push_back(static_cast<char>(rest));
  }
  out += std::string(size, fill);
  return out;
}

TEST(SessionLimitsTest, HeaderListOverTheLimitIsReportedPerStreamAndTheConnectionLivesOn) {
  Recorder recorder;
  SessionLimits limits;
  limits.max_header_list_size = 2048;
  int64_t now = 1000;
  Session session(recorder, limits, [&now] { return now; });
  ASSERT_TRUE(session.start());
  std::string first = requestBlock() + indexedLiteral("x-big", 3000, 'b');
  std::string all(kPreface);
  all += frame(kSettings, 0, 0, "");
  all += frame(kHeaders, kEndStream | kEndHeaders, 1, first);
  // The next request on the same connection is decoded and delivered.
  std::string second = requestBlock() + indexedLiteral("x-ok", 10, 'o');
  all += frame(kHeaders, kEndStream | kEndHeaders, 3, second);
  EXPECT_TRUE(session.receive(all));
  EXPECT_TRUE(recorder.calms.empty());
  ASSERT_EQ(recorder.too_large, std::vector<int32_t>{1});
  ASSERT_EQ(recorder.requests.size(), 1u);
  EXPECT_EQ(recorder.requests[0].back().name, "x-ok");
  // Four times the limit in one block is a bomb.
  std::string bomb = requestBlock() + indexedLiteral("x-a", 1500, 'a');
  for (int i = 0; i < 6; ++i) bomb.push_back(static_cast<char>(0x80 | 62));
  EXPECT_FALSE(session.receive(frame(kHeaders, kEndStream | kEndHeaders, 5, bomb)));
  ASSERT_EQ(recorder.calms.size(), 1u);
  EXPECT_EQ(recorder.calms[0], CalmReason::kHpackBomb);
}

// True when `out` (server frames) holds a WINDOW_UPDATE for `stream`.
bool hasWindowUpdate(const std::string& out, uint32_t stream) {
  size_t at = 0;
  while (at + 9 <= out.size()) {
    const size_t length = (static_cast<uint8_t>(out[at]) << 16) |
                          (static_cast<uint8_t>(out[at + 1]) << 8) | static_cast<uint8_t>(out[at + 2]);
    const uint32_t id = ((static_cast<uint8_t>(out[at + 5]) & 0x7f) << 24) |
                        (static_cast<uint8_t>(out[at + 6]) << 16) |
                        (static_cast<uint8_t>(out[at + 7]) << 8) | static_cast<uint8_t>(out[at + 8]);
    if (out[at + 3] == 8 && id == stream) return true;
    at += 9 + length;
  }
  return false;
}

TEST(SessionLimitsTest, WindowsReopenOnlyAsTheOwnerConsumesTheBody) {
  Recorder recorder;
  int64_t now = 1000;
  Session session(recorder, SessionLimits{}, [&now] { return now; });
  ASSERT_TRUE(session.start());
  std::string all(kPreface);
  all += frame(kSettings, 0, 0, "");
  all += frame(kHeaders, kEndHeaders, 1, requestBlock(/*post=*/true));
  all += frame(kData, 0, 1, std::string(16000, 'a'));
  all += frame(kData, 0, 1, std::string(16000, 'b'));
  all += frame(kData, 0, 1, std::string(16000, 'c'));
  ASSERT_TRUE(session.receive(all));
  std::string out;
  session.takeOutput(out, 1 << 20);
  EXPECT_FALSE(hasWindowUpdate(out, 0));
  EXPECT_FALSE(hasWindowUpdate(out, 1));
  session.consume(1, 48000);  // past half the 64 KiB window: both windows reopen
  out.clear();
  session.takeOutput(out, 1 << 20);
  EXPECT_TRUE(hasWindowUpdate(out, 0));
  EXPECT_TRUE(hasWindowUpdate(out, 1));
}

TEST(SessionLimitsTest, ConfiguredLimitsAreAdvertisedAndEnforced) {
  Recorder recorder;
  SessionLimits limits;
  limits.max_concurrent_streams = 7;
  limits.initial_window_size = 131072;
  limits.header_table_size = 8192;
  limits.max_header_list_size = 4096;
  limits.ping_burst = 3;
  limits.ping_rate = 1;
  int64_t now = 1000;
  Session session(recorder, limits, [&now] { return now; });
  ASSERT_TRUE(session.start());
  std::string out;
  session.takeOutput(out, 1 << 16);
  ASSERT_GE(out.size(), 9u);
  ASSERT_EQ(out[3], static_cast<char>(kSettings));
  std::map<int, uint32_t> settings;
  const size_t length = (static_cast<uint8_t>(out[1]) << 8) | static_cast<uint8_t>(out[2]);
  for (size_t at = 9; at + 6 <= 9 + length; at += 6) {
    const int id = (static_cast<uint8_t>(out[at]) << 8) | static_cast<uint8_t>(out[at + 1]);
    uint32_t value = 0;
    for (int b = 2; b < 6; ++b) value = (value << 8) | static_cast<uint8_t>(out[at + b]);
    settings[id] = value;
  }
  EXPECT_EQ(settings[1], 8192u);    // HEADER_TABLE_SIZE
  EXPECT_EQ(settings[3], 7u);       // MAX_CONCURRENT_STREAMS
  EXPECT_EQ(settings[4], 131072u);  // INITIAL_WINDOW_SIZE
  EXPECT_EQ(settings[6], 4096u);    // MAX_HEADER_LIST_SIZE
  std::string all(kPreface);
  all += frame(kSettings, 0, 0, "");
  for (int i = 0; i < 4; ++i) all += frame(kPing, 0, 0, "12345678");
  EXPECT_FALSE(session.receive(all));
  ASSERT_EQ(recorder.calms.size(), 1u);
  EXPECT_EQ(recorder.calms[0], CalmReason::kPingFlood);
}

TEST_F(SessionTest, RapidResetEndsInEnhanceYourCalm) {
  std::string frames;
  for (uint32_t stream = 1; stream < 1000; stream += 2) {
    frames += frame(kHeaders, kEndStream | kEndHeaders, stream, requestBlock());
    frames += frame(kRst, 0, stream, std::string("\0\0\0\x08", 4));  // CANCEL
  }
  EXPECT_FALSE(feed(frames));
  ASSERT_EQ(recorder_.calms.size(), 1u);
  EXPECT_EQ(recorder_.calms[0], CalmReason::kRapidReset);
  EXPECT_TRUE(sentCalmGoaway());
}

TEST_F(SessionTest, EmptyDataFloodEndsInEnhanceYourCalm) {
  std::string frames = frame(kHeaders, kEndHeaders, 1, requestBlock(true));
  for (int i = 0; i < 300; ++i) frames += frame(kData, 0, 1, "");
  EXPECT_FALSE(feed(frames));
  ASSERT_EQ(recorder_.calms.size(), 1u);
  EXPECT_EQ(recorder_.calms[0], CalmReason::kEmptyDataFlood);
}

TEST_F(SessionTest, UppercaseHeaderNameReachesTheConversionWhichRefusesIt) {
  // nghttp2's own HTTP messaging checks are off (h2perf): RFC 9113 §8 is checked once, by
  // convertRequest, which refuses the request; the session and the connection live on.
  std::string block = requestBlock();
  block.push_back(0x00);  // literal, new name, no indexing
  block.push_back(3);
  block += "Foo";
  block.push_back(3);
  block += "bar";
  EXPECT_TRUE(feed(frame(kHeaders, kEndStream | kEndHeaders, 1, block)));
  ASSERT_EQ(recorder_.requests.size(), 1u);
  ConvertedRequest converted;
  EXPECT_EQ(convertRequest(recorder_.requests[0], 0, converted), DowngradeError::kBadFieldName);
  EXPECT_TRUE(recorder_.calms.empty());
}

TEST_F(SessionTest, TrailersWithoutEndStreamResetTheStream) {
  // HEADERS, DATA, then a second HEADERS (trailers) that does not end the stream.
  std::string trailer;
  trailer.push_back(0x00);
  trailer.push_back(5);
  trailer += "x-sum";
  trailer.push_back(1);
  trailer += "1";
  EXPECT_TRUE(feed(frame(kHeaders, kEndHeaders, 1, requestBlock(true)) + frame(kData, 0, 1, "abc") +
                   frame(kHeaders, kEndHeaders, 1, trailer)));
  EXPECT_EQ(recorder_.malformed, 1);
  EXPECT_TRUE(sentFrame(kRst, 1));
}

TEST_F(SessionTest, ARequestAndItsResponseWithNghttp2sClient) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  struct ClientState {
    int status = 0;
    std::string body;
  } state;
  nghttp2_session_callbacks_set_on_header_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame*, const uint8_t* name, size_t name_len,
                    const uint8_t* value, size_t value_len, uint8_t, void* user) {
        if (std::string_view(reinterpret_cast<const char*>(name), name_len) == ":status") {
          static_cast<ClientState*>(user)->status =
              std::stoi(std::string(reinterpret_cast<const char*>(value), value_len));
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      callbacks, [](nghttp2_session*, uint8_t, int32_t, const uint8_t* data, size_t len, void* user) {
        static_cast<ClientState*>(user)->body.append(reinterpret_cast<const char*>(data), len);
        return 0;
      });
  nghttp2_session* client = nullptr;
  nghttp2_session_client_new(&client, callbacks, &state);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, nullptr, 0);
  auto nv = [](const char* n, const char* v) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(n)),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(v)), strlen(n), strlen(v),
                      NGHTTP2_NV_FLAG_NONE};
  };
  nghttp2_nv request[] = {nv(":method", "GET"), nv(":scheme", "https"),
                          nv(":authority", "en.wiki.test"), nv(":path", "/wiki/A"),
                          nv("accept", "text/html")};
  const int32_t stream = nghttp2_submit_request(client, nullptr, request, 5, nullptr, nullptr);
  auto pump = [&] {
    for (int round = 0; round < 10; ++round) {
      const uint8_t* data = nullptr;
      std::string to_server;
      ssize_t n;
      while ((n = nghttp2_session_mem_send(client, &data)) > 0) to_server.append(reinterpret_cast<const char*>(data), n);
      if (!to_server.empty()) {
        ASSERT_TRUE(session_.receive(to_server));
      }
      std::string to_client;
      session_.takeOutput(to_client, 1 << 20);
      if (!to_client.empty()) {
        nghttp2_session_mem_recv(client, reinterpret_cast<const uint8_t*>(to_client.data()), to_client.size());
      }
    }
  };
  pump();
  ASSERT_EQ(recorder_.requests.size(), 1u);
  EXPECT_EQ(recorder_.requests[0][3].name, ":path");
  EXPECT_EQ(recorder_.requests[0][3].value, "/wiki/A");
  recorder_.bodies[stream] = std::string(100000, 'z');  // more than the 64 KiB window
  ASSERT_TRUE(session_.submitResponse(stream, {{":status", "200"}, {"content-type", "text/html"}}, true));
  pump();
  EXPECT_EQ(state.status, 200);
  EXPECT_EQ(state.body.size(), 100000u);
  EXPECT_TRUE(recorder_.calms.empty());
  nghttp2_session_del(client);
}

}  // namespace
}  // namespace ec::h2

namespace ec::h2 {
namespace {

std::string u32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
                     static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

// The windows the send-progress check reads: a client's SETTINGS_INITIAL_WINDOW_SIZE 0 shuts
// every stream's window, WINDOW_UPDATE opens it; terminate() queues GOAWAY with its code.
TEST(SessionWindowsTest, SendWindowsFollowTheClientsSettingsAndUpdates) {
  Recorder recorder;
  int64_t now = 1000;
  Session session(recorder, SessionLimits{}, [&now] { return now; });
  ASSERT_TRUE(session.start());
  std::string all(kPreface);
  all += frame(kSettings, 0, 0, std::string("\x00\x04", 2) + u32(0));  // INITIAL_WINDOW_SIZE 0
  all += frame(kHeaders, kEndHeaders | kEndStream, 1, requestBlock());
  ASSERT_TRUE(session.receive(all));
  EXPECT_EQ(session.streamSendWindow(1), 0);
  EXPECT_EQ(session.connectionSendWindow(), 65535);
  EXPECT_EQ(session.streamSendWindow(3), -1);  // not open
  ASSERT_TRUE(session.receive(frame(8, 0, 1, u32(100))));  // WINDOW_UPDATE stream 1
  EXPECT_EQ(session.streamSendWindow(1), 100);
  recorder.bodies[1] = std::string(1000, 'x');
  ASSERT_TRUE(session.submitResponse(1, {{":status", "200"}}, true));
  std::string out;
  session.takeOutput(out, 1 << 20);
  EXPECT_EQ(session.streamSendWindow(1), 0);  // 100 bytes went, the rest waits
  EXPECT_EQ(session.connectionSendWindow(), 65535 - 100);
  session.terminate(NGHTTP2_ENHANCE_YOUR_CALM);
  out.clear();
  session.takeOutput(out, 1 << 20);
  bool goaway = false;
  for (size_t at = 0; at + 9 <= out.size();) {
    const size_t length = (static_cast<uint8_t>(out[at]) << 16) |
                          (static_cast<uint8_t>(out[at + 1]) << 8) | static_cast<uint8_t>(out[at + 2]);
    if (out[at + 3] == 7 && length >= 8 && static_cast<uint8_t>(out[at + 9 + 7]) == 0x0b) goaway = true;
    at += 9 + length;
  }
  EXPECT_TRUE(goaway);
  EXPECT_FALSE(session.wantsRead());
}

}  // namespace
}  // namespace ec::h2
