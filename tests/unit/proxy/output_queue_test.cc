#include "proxy/output_queue.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "net/socket.h"

namespace ec::proxy {
namespace {

std::string drain(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(OutputQueue, WritesOwnedBytesAndBodyRangesInOrder) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  net::PlainTransport transport(fds[0]);
  auto body = std::make_shared<storage::Body>(0);
  body->append("0123456789");
  body->finish();
  OutputQueue queue;
  queue.appendCopy("head|");
  queue.appendBody(body, 2, 5);
  queue.appendCopy("|tail");
  EXPECT_EQ(queue.queuedBytes(), 15u);
  uint64_t written = 0;
  auto result = queue.flush(transport, written);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(*result);
  EXPECT_EQ(written, 15u);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(drain(fds[1]), "head|23456|tail");
  close(fds[0]);
  close(fds[1]);
}

TEST(OutputQueue, CopiesSmallBodiesBehindTheHeadAndDropsTheObjectReference) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  net::PlainTransport transport(fds[0]);
  auto body = std::make_shared<storage::Body>(0);
  body->append(std::string(OutputQueue::kInlineBodyBytes, 'b'));
  body->finish();
  OutputQueue queue;
  queue.appendCopy("head|");
  queue.appendBody(body, 0, OutputQueue::kInlineBodyBytes);
  EXPECT_EQ(body.use_count(), 1) << "a small range is copied, not referenced";
  queue.appendBody(body, 0, OutputQueue::kInlineBodyBytes);  // coalesces too
  uint64_t written = 0;
  auto result = queue.flush(transport, written);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(*result);
  EXPECT_EQ(drain(fds[1]), "head|" + std::string(2 * OutputQueue::kInlineBodyBytes, 'b'));
  close(fds[0]);
  close(fds[1]);
}

TEST(OutputQueue, LargerBodiesStayReferencedUntilWritten) {
  auto body = std::make_shared<storage::Body>(0);
  body->append(std::string(OutputQueue::kInlineBodyBytes + 1, 'x'));
  body->finish();
  OutputQueue queue;
  queue.appendCopy("head|");
  queue.appendBody(body, 0, OutputQueue::kInlineBodyBytes + 1);
  EXPECT_EQ(body.use_count(), 2);
  queue.clear();
  EXPECT_EQ(body.use_count(), 1);
}

TEST(OutputQueue, HandsBackASentHeadBufferForTheNextHead) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  net::PlainTransport transport(fds[0]);
  OutputQueue queue;
  std::string head = queue.takeBuffer();
  EXPECT_TRUE(head.empty());
  head.reserve(600);
  head += "HTTP/1.1 200 OK\r\n\r\n";
  queue.appendOwned(std::move(head));
  uint64_t written = 0;
  ASSERT_TRUE(queue.flush(transport, written).ok());
  std::string next = queue.takeBuffer();
  EXPECT_TRUE(next.empty()) << "the buffer comes back cleared";
  EXPECT_GE(next.capacity(), 600u) << "with its capacity, so the next head allocates nothing";
  EXPECT_TRUE(queue.takeBuffer().empty());
  EXPECT_EQ(drain(fds[1]), "HTTP/1.1 200 OK\r\n\r\n");
  close(fds[0]);
  close(fds[1]);
}

TEST(OutputQueue, ResumesAPartialWriteWhereItStopped) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  net::PlainTransport transport(fds[0]);
  int small = 4096;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string expected;
  auto body = std::make_shared<storage::Body>(0);
  for (int i = 0; i < 20000; ++i) body->append(std::to_string(i % 10));
  body->finish();
  OutputQueue queue;
  queue.appendCopy("start:");
  queue.appendBody(body, 0, 20000);
  queue.appendCopy(":end");
  expected = "start:";
  for (int i = 0; i < 20000; ++i) expected += std::to_string(i % 10);
  expected += ":end";
  std::string received;
  uint64_t written = 0;
  for (int round = 0; round < 10000 && !queue.empty(); ++round) {
    auto result = queue.flush(transport, written);
    ASSERT_TRUE(result.ok());
    received += drain(fds[1]);
  }
  received += drain(fds[1]);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(received, expected);
  EXPECT_EQ(written, expected.size());
  close(fds[0]);
  close(fds[1]);
}

TEST(OutputQueue, ReportsAClosedPeer) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  net::PlainTransport transport(fds[0]);
  close(fds[1]);
  OutputQueue queue;
  queue.appendCopy("lost");
  uint64_t written = 0;
  EXPECT_FALSE(queue.flush(transport, written).ok());
  close(fds[0]);
}

// TCP on loopback: splice() to a socket is the production path being tested.
std::pair<net::UniqueFd, net::UniqueFd> tcpPair() {
  auto listener = net::listenOn(*net::parseSocketAddress("127.0.0.1:0"), false);
  EXPECT_TRUE(listener.ok());
  auto client = net::startConnect(net::localAddress(listener->get()));
  EXPECT_TRUE(client.ok());
  int accepted = -1;
  for (int i = 0; i < 1000 && accepted < 0; ++i) {
    accepted = ::accept4(listener->get(), nullptr, nullptr, SOCK_NONBLOCK);
    if (accepted < 0) usleep(1000);
  }
  EXPECT_GE(accepted, 0);
  return {std::move(*client), net::UniqueFd(accepted)};
}

TEST(OutputQueue, SplicesLargeMappedBodiesAndKeepsOrderWithCopiedSegments) {
  auto [sender, receiver] = tcpPair();
  constexpr size_t kLarge = (3u << 19) + 123;  // one mapped chunk (known size)
  std::string large(kLarge, '\0');
  for (size_t i = 0; i < kLarge; ++i) large[i] = static_cast<char>('A' + (i * 31 + i / 977) % 26);
  auto big = std::make_shared<storage::Body>(kLarge);
  big->append(large);
  big->finish();
  auto small = std::make_shared<storage::Body>(0);  // heap chunk: copied
  small->append("small-body");
  small->finish();

  net::SplicePipePool pipes;
  OutputQueue queue;
  queue.appendCopy("HEAD\r\n\r\n");
  queue.appendBody(big, 100, kLarge - 200);
  queue.appendCopy("|mid|");
  queue.appendBody(small, 0, 10);
  queue.appendBody(big, 0, 50000);  // a second range of the same object
  queue.appendCopy("|tail");
  const std::string expected = "HEAD\r\n\r\n" + large.substr(100, kLarge - 200) + "|mid|" +
                               "small-body" + large.substr(0, 50000) + "|tail";
  EXPECT_EQ(queue.queuedBytes(), expected.size());
  // The queue's references are the only ones left: an evicted object must still be sent whole.
  big.reset();
  small.reset();

  std::string received;
  uint64_t written = 0;
  net::PlainTransport transport(sender.get());
  for (int round = 0; round < 100000 && !queue.empty(); ++round) {
    auto result = queue.flush(transport, written, &pipes);
    ASSERT_TRUE(result.ok());
    received += drain(receiver.get());
  }
  for (int i = 0; i < 100 && received.size() < expected.size(); ++i) {
    usleep(1000);
    received += drain(receiver.get());
  }
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.queuedBytes(), 0u);
  EXPECT_EQ(written, expected.size());
  ASSERT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(pipes.idle(), 1u);  // the pipe went back to the pool once empty
}

// Counts the sends a flush makes, passing them on to a real socket.
class CountingTransport final : public net::Transport {
 public:
  explicit CountingTransport(int fd) : inner_(fd) {}
  net::IoResult read(char* buffer, size_t capacity) override { return inner_.read(buffer, capacity); }
  net::IoResult writev(const iovec* iov, int count, bool more) override {
    ++writes;
    return inner_.writev(iov, count, more);
  }
  int rawFd() const override { return inner_.rawFd(); }
  int writes = 0;

 private:
  net::PlainTransport inner_;
};

TEST(OutputQueue, AHeapBodyAboveTheSpliceSizeLeavesWithItsHeadInOneSend) {
  auto [sender, receiver] = tcpPair();
  const std::string payload(20u << 10, 'b');  // over kSpliceMinBytes, under a mapped chunk
  auto body = std::make_shared<storage::Body>(payload.size());
  body->append(payload);
  body->finish();
  net::SplicePipePool pipes;
  OutputQueue queue;
  queue.appendCopy("HEAD\r\n\r\n");
  queue.appendBody(body, 0, payload.size());
  CountingTransport transport(sender.get());
  uint64_t written = 0;
  auto result = queue.flush(transport, written, &pipes);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(*result);
  EXPECT_EQ(transport.writes, 1);  // head and body together, as the floor sends them
  EXPECT_EQ(pipes.idle(), 0u);     // no pipe was taken for bytes that cannot be spliced
  std::string received;
  for (int i = 0; i < 100 && received.size() < 8 + payload.size(); ++i) {
    received += drain(receiver.get());
    if (received.size() < 8 + payload.size()) usleep(1000);
  }
  EXPECT_TRUE(received == "HEAD\r\n\r\n" + payload);
}

TEST(OutputQueue, ClearDropsAPipeThatStillHoldsBytes) {
  auto [sender, receiver] = tcpPair();
  int small_buffer = 4096;
  setsockopt(sender.get(), SOL_SOCKET, SO_SNDBUF, &small_buffer, sizeof small_buffer);
  auto big = std::make_shared<storage::Body>(4u << 20);
  big->append(std::string(4u << 20, 'q'));
  big->finish();
  net::SplicePipePool pipes;
  OutputQueue queue;
  queue.appendBody(big, 0, 4u << 20);
  uint64_t written = 0;
  net::PlainTransport transport(sender.get());
  auto result = queue.flush(transport, written, &pipes);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(*result);  // the receiver reads nothing: the socket fills
  EXPECT_FALSE(queue.empty());
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(pipes.idle(), 0u);
}

}  // namespace
}  // namespace ec::proxy
