#include "proxy/output_queue.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

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

}  // namespace
}  // namespace ec::proxy
