#include "demo/demo_origin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "base/strings.h"

namespace ec::demo {
namespace {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;
};

// A minimal blocking client: enough HTTP/1.1 to read Content-Length framed replies.
class TestClient {
 public:
  explicit TestClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    const timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~TestClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  void send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  std::optional<Reply> read(bool head_request = false) {
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    Reply reply;
    std::string_view head(buffer_.data(), head_end);
    reply.status = std::stoi(std::string(head.substr(9, 3)));
    size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
      const size_t end = std::min(head.find("\r\n", pos + 2), head.size());
      const std::string_view line = head.substr(pos + 2, end - pos - 2);
      const size_t colon = line.find(':');
      reply.headers[toLower(line.substr(0, colon))] = std::string(trimOws(line.substr(colon + 1)));
      pos = end == head.size() ? std::string_view::npos : end;
    }
    buffer_.erase(0, head_end + 4);
    size_t length = 0;
    if (!head_request && reply.headers.count("content-length")) {
      length = std::stoul(reply.headers["content-length"]);
    }
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  bool closedByPeer() {
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    // A connection still in the listen backlog when the listener closes is reset instead.
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: demo\r\n" + extra + "\r\n";
}

class DemoOriginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(origin_.start().ok());
    ASSERT_NE(origin_.port(), 0);
  }
  DemoOrigin origin_{"127.0.0.1:0"};
};

TEST_F(DemoOriginTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  TestClient client(origin_.port());
  ASSERT_TRUE(client.connected());
  client.send(get("/"));
  auto redirect = client.read();
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, 301);
  EXPECT_EQ(redirect->headers["location"], "/wiki/Main_Page");
  EXPECT_FALSE(redirect->headers["date"].empty());

  client.send(get("/wiki/Main_Page"));
  auto page = client.read();
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->headers["vary"], "Accept-Encoding, Cookie");
  EXPECT_NE(page->body.find("</html>"), std::string::npos);

  client.send(get("/wiki/Main_Page", "If-None-Match: " + page->headers["etag"] + "\r\n"));
  auto not_modified = client.read();
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(not_modified->headers.count("content-length"), 0u);
  EXPECT_TRUE(not_modified->body.empty());
}

TEST_F(DemoOriginTest, PipelinedRequestsAnswerInOrder) {
  TestClient client(origin_.port());
  client.send(get("/static/images/a.png") + get("/w/api.php?action=query") + get("/nope"));
  auto png = client.read();
  auto api = client.read();
  auto missing = client.read();
  ASSERT_TRUE(png && api && missing);
  EXPECT_EQ(png->headers["content-type"], "image/png");
  EXPECT_EQ(png->body.substr(1, 3), "PNG");
  EXPECT_EQ(api->headers["cache-control"], "private, must-revalidate, max-age=0");
  EXPECT_EQ(missing->status, 404);
}

TEST_F(DemoOriginTest, HeadHasLengthButNoBody) {
  TestClient client(origin_.port());
  client.send("HEAD /big/2MiB HTTP/1.1\r\nHost: demo\r\n\r\n");
  auto head = client.read(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->headers["content-length"], std::to_string(2 << 20));
  // The connection is still in sync: the next answer starts right after the head.
  client.send(get("/wiki/HTTP_caching"));
  auto next = client.read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(DemoOriginTest, BigBodyArrivesComplete) {
  TestClient client(origin_.port());
  client.send(get("/big/4MiB"));
  auto big = client.read();
  ASSERT_TRUE(big);
  ASSERT_EQ(big->body.size(), 4u << 20);
  std::string expected(big->body.size(), '\0');
  fillGeneratedBody(0, expected.data(), expected.size());
  EXPECT_TRUE(big->body == expected);
}

TEST_F(DemoOriginTest, PostEditRedirectsAndChangesEtag) {
  TestClient client(origin_.port());
  client.send(get("/wiki/Edgecache"));
  auto before = client.read();
  const std::string body = "wpTextbox1=edited";
  client.send("POST /w/index.php?title=Edgecache&action=submit HTTP/1.1\r\nHost: demo\r\n"
              "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body);
  auto saved = client.read();
  client.send(get("/wiki/Edgecache"));
  auto after = client.read();
  ASSERT_TRUE(before && saved && after);
  EXPECT_EQ(saved->status, 303);
  EXPECT_NE(before->headers["etag"], after->headers["etag"]);
  EXPECT_NE(after->body.find("edited"), std::string::npos);
}

TEST_F(DemoOriginTest, ConnectionCloseAndMalformedRequestsClose) {
  {
    TestClient client(origin_.port());
    client.send(get("/", "Connection: close\r\n"));
    auto reply = client.read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->headers["connection"], "close");
    EXPECT_TRUE(client.closedByPeer());
  }
  {
    TestClient client(origin_.port());
    client.send("NONSENSE\r\n\r\n");
    auto reply = client.read();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400);
    EXPECT_TRUE(client.closedByPeer());
  }
}

TEST(DemoOrigin, BindFailureIsAnError) {
  DemoOrigin first("127.0.0.1:0");
  ASSERT_TRUE(first.start().ok());
  DemoOrigin second("127.0.0.1:" + std::to_string(first.port()));
  const Status status = second.start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kIo);
  EXPECT_FALSE(DemoOrigin("nonsense").start().ok());
  EXPECT_FALSE(DemoOrigin("127.0.0.1:99999").start().ok());
}

TEST(DemoOrigin, StopWithOpenIdleConnectionsReturns) {
  DemoOrigin origin("127.0.0.1:0");
  ASSERT_TRUE(origin.start().ok());
  TestClient idle(origin.port());
  TestClient busy(origin.port());
  busy.send(get("/"));
  ASSERT_TRUE(busy.read());
  origin.stop();  // must not hang on the idle keep-alive connections
  EXPECT_TRUE(idle.closedByPeer());
  origin.stop();
}

}  // namespace
}  // namespace ec::demo
