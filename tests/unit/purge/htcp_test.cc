#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cache/cache_key.h"
#include "purge/htcp_listener.h"
#include "purge/htcp_packet.h"
#include "storage/memory_store.h"

namespace ec::purge {
namespace {

// The bytes MediaWiki's CdnCacheUpdate::HTCPPurge writes for one URL (wikimedia-traffic.md
// §1.2), written out by hand rather than by encodeHtcpClr, so the encoder is checked too.
std::string mediawikiPacket(uint32_t id, const std::string& url) {
  std::string p;
  auto put16 = [&p](size_t v) { p.push_back(char(v >> 8)); p.push_back(char(v & 0xff)); };
  const size_t spec = 2 + 4 + 2 + url.size() + 2 + 8 + 2;
  const size_t data = 8 + 2 + spec;
  put16(4 + data + 2);
  p += '\0'; p += '\0';
  put16(data);
  p += char(4); p += '\0';
  put16(id >> 16); put16(id & 0xffff);
  put16(0);
  put16(4); p += "HEAD";
  put16(url.size()); p += url;
  put16(8); p += "HTTP/1.0";
  put16(0);
  put16(2);
  return p;
}

TEST(HtcpPacket, DecodesExactlyWhatMediaWikiSends) {
  const std::string packet = mediawikiPacket(0x01020304, "http://en.wikipedia.org/wiki/Foo");
  EXPECT_EQ(packet, encodeHtcpClr(0x01020304, "http://en.wikipedia.org/wiki/Foo"));
  const HtcpDecodeResult decoded = decodeHtcpClr(packet);
  ASSERT_TRUE(decoded.ok) << htcpErrorName(decoded.error);
  EXPECT_EQ(decoded.clr.transaction_id, 0x01020304u);
  EXPECT_EQ(decoded.clr.method, "HEAD");
  EXPECT_EQ(decoded.clr.uri, "http://en.wikipedia.org/wiki/Foo");
  EXPECT_EQ(decoded.clr.version, "HTTP/1.0");
  EXPECT_EQ(decoded.clr.headers, "");
}

TEST(HtcpPacket, RefusesMalformedPacketsPrecisely) {
  const std::string good = encodeHtcpClr(7, "http://w.test/a");
  auto error = [](const std::string& p) {
    const HtcpDecodeResult r = decodeHtcpClr(p);
    EXPECT_FALSE(r.ok);
    return r.error;
  };
  EXPECT_EQ(error(good.substr(0, 19)), HtcpError::kTooShort);
  EXPECT_EQ(error(good.substr(0, good.size() - 1)), HtcpError::kLengthMismatch);
  EXPECT_EQ(error(good + "x"), HtcpError::kLengthMismatch);
  std::string p = good; p[2] = 1;
  EXPECT_EQ(error(p), HtcpError::kBadVersion);
  p = good; p[6] = 1;  // TST
  EXPECT_EQ(error(p), HtcpError::kNotClr);
  p = good; p[7] = 0x40;  // a response
  EXPECT_EQ(error(p), HtcpError::kNotClr);
  p = good; p[4] = char(0xff);
  EXPECT_EQ(error(p), HtcpError::kBadDataLength);
  p = good; p[21] = char(0xff);  // URI length past the DATA section
  EXPECT_EQ(error(p), HtcpError::kBadField);
  p = good; p[p.size() - 1] = 4;  // AUTH length claims more than is left
  EXPECT_EQ(error(p), HtcpError::kBadAuth);
  EXPECT_EQ(error(encodeHtcpClr(1, "")), HtcpError::kEmptyUri);
  // Every truncation of a good packet is refused (its length field no longer matches).
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decodeHtcpClr(good.substr(0, n)).ok);
}

TEST(SequenceTracker, CountsGapsPerSender) {
  SequenceTracker t;
  EXPECT_EQ(t.observe("a", 100), 0u);
  EXPECT_EQ(t.observe("a", 101), 0u);
  EXPECT_EQ(t.observe("a", 105), 3u);   // 102..104 lost
  EXPECT_EQ(t.observe("b", 7), 0u);     // another sender: its own sequence
  EXPECT_EQ(t.observe("a", 103), 0u);   // late or restarted: not loss
  EXPECT_EQ(t.observe("a", 104), 0u);
  EXPECT_EQ(t.observe("a", 0xffffffff), 0u);  // a jump past kMaxGap: restart, not loss
  EXPECT_EQ(t.observe("a", 1), 1u);     // wraps: 0 was lost
}

net::SocketAddress v4(const char* ip) {
  net::SocketAddress a;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
  in->sin_family = AF_INET;
  inet_pton(AF_INET, ip, &in->sin_addr);
  a.length = sizeof(sockaddr_in);
  return a;
}

class HtcpListenerTest : public ::testing::Test {
 protected:
  HtcpListenerTest()
      : store_(options()),
        purger_(store_, nullptr, *PurgeSettings::build({}, "")) {}
  static storage::MemoryStoreOptions options() {
    storage::MemoryStoreOptions o;
    o.capacity_bytes = 1 << 20;
    o.shards = 2;
    o.max_object_bytes = 1 << 16;
    return o;
  }
  void cache(const std::string& key) {
    cache::ObjectMeta meta;
    auto body = std::make_shared<storage::Body>(0);
    body->finish();
    store_.insert(key, "", std::make_shared<storage::CachedObject>(std::move(meta), body));
  }
  HtcpListenerOptions listenerOptions(std::vector<std::string> allow = {"0.0.0.0/0"},
                                      std::vector<std::string> sequential = {"10.0.0.0/8"}) {
    HtcpListenerOptions o;
    o.address = "127.0.0.1:0";
    o.allow = *admin::AccessList::parse(allow);
    o.sequential = *admin::AccessList::parse(sequential);
    return o;
  }
  storage::MemoryStore store_;
  Purger purger_;
};

TEST_F(HtcpListenerTest, AppliesCountsAndTracksSequentialSenders) {
  HtcpListener listener(purger_, listenerOptions({"10.0.0.0/8", "192.168.0.0/16"}));
  cache(cache::primaryKey("http", "en.wiki.test", "/wiki/Foo"));
  listener.handlePacket(encodeHtcpClr(1, "http://en.wiki.test/wiki/Foo"), v4("10.0.0.1"));
  EXPECT_EQ(store_.stats().objects, 0u);
  listener.handlePacket(encodeHtcpClr(4, "http://en.wiki.test/wiki/Bar"), v4("10.0.0.1"));
  EXPECT_EQ(purger_.stats().htcp_lost.load(), 2u);
  // Random ids from a sender not listed as sequential: never counted as loss.
  listener.handlePacket(encodeHtcpClr(900, "http://en.wiki.test/a"), v4("192.168.1.1"));
  listener.handlePacket(encodeHtcpClr(17, "http://en.wiki.test/b"), v4("192.168.1.1"));
  listener.handlePacket(encodeHtcpClr(5000, "http://en.wiki.test/c"), v4("192.168.1.1"));
  EXPECT_EQ(purger_.stats().htcp_lost.load(), 2u);
  // Outside the ACL, malformed, not CLR, bad URL.
  listener.handlePacket(encodeHtcpClr(5, "http://en.wiki.test/x"), v4("172.16.0.1"));
  listener.handlePacket("garbage", v4("10.0.0.1"));
  std::string tst = encodeHtcpClr(6, "http://en.wiki.test/x");
  tst[6] = 1;
  listener.handlePacket(tst, v4("10.0.0.1"));
  listener.handlePacket(encodeHtcpClr(7, "ftp://en.wiki.test/x"), v4("10.0.0.1"));
  const size_t h = static_cast<size_t>(PurgeSource::kHtcp);
  EXPECT_EQ(purger_.stats().received[h].load(), 9u);
  EXPECT_EQ(purger_.stats().applied[h].load(), 5u);
  EXPECT_EQ(purger_.stats().rejected[h][size_t(RejectReason::kForbidden)].load(), 1u);
  EXPECT_EQ(purger_.stats().rejected[h][size_t(RejectReason::kMalformed)].load(), 2u);
  EXPECT_EQ(purger_.stats().rejected[h][size_t(RejectReason::kNotClr)].load(), 1u);
}

TEST_F(HtcpListenerTest, ReceivesOverUdpOnItsOwnThread) {
  HtcpListener listener(purger_, listenerOptions());
  ASSERT_TRUE(listener.start().ok());
  ASSERT_NE(listener.port(), 0);
  cache(cache::primaryKey("http", "en.wiki.test", "/wiki/Udp"));
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(listener.port());
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  const std::string packet = encodeHtcpClr(1, "http://en.wiki.test/wiki/Udp");
  ASSERT_EQ(::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(packet.size()));
  ::close(fd);
  const size_t h = static_cast<size_t>(PurgeSource::kHtcp);
  for (int i = 0; i < 500 && purger_.stats().applied[h].load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(purger_.stats().applied[h].load(), 1u);
  EXPECT_EQ(store_.stats().objects, 0u);
  listener.stop();
}

}  // namespace
}  // namespace ec::purge
