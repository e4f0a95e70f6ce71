// SplicePipe and SplicePipePool: bytes handed over by reference arrive intact, in order, even
// when the memory they came from is unmapped before the socket sends them.
#include "net/splice_pipe.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <cstring>
#include <string>

namespace ec::net {
namespace {

// A connected TCP pair on loopback (splice to TCP is the production path).
struct TcpPair {
  UniqueFd sender;
  UniqueFd receiver;
};

TcpPair connectedPair() {
  auto address = parseSocketAddress("127.0.0.1:0");
  EXPECT_TRUE(address.ok());
  auto listener = listenOn(*address, false);
  EXPECT_TRUE(listener.ok());
  auto client = startConnect(localAddress(listener->get()));
  EXPECT_TRUE(client.ok());
  int accepted = -1;
  for (int i = 0; i < 1000 && accepted < 0; ++i) {
    accepted = ::accept4(listener->get(), nullptr, nullptr, SOCK_NONBLOCK);
    if (accepted < 0) usleep(1000);
  }
  EXPECT_GE(accepted, 0);
  return TcpPair{std::move(*client), UniqueFd(accepted)};
}

std::string readAvailable(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(SplicePipe, MovesMappedPagesToASocketWithoutLosingOrder) {
  TcpPair pair = connectedPair();
  constexpr size_t kBytes = 3u << 20;
  char* region = static_cast<char*>(
      ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  std::string expected(kBytes, '\0');
  for (size_t i = 0; i < kBytes; ++i) expected[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  std::memcpy(region, expected.data(), kBytes);

  auto pipe = SplicePipe::open();
  ASSERT_TRUE(pipe.ok());
  std::string received;
  size_t loaded_total = 0;
  bool unmapped = false;
  while (received.size() < kBytes) {
    if ((*pipe)->buffered() == 0 && loaded_total < kBytes) {
      iovec iov{region + loaded_total, kBytes - loaded_total};
      auto loaded = (*pipe)->load(&iov, 1);
      ASSERT_TRUE(loaded.ok());
      loaded_total += *loaded;
      if (loaded_total == kBytes) {
        // The pipe holds references: the bytes must survive the memory going away and the
        // pages being handed out again.
        ::munmap(region, kBytes);
        unmapped = true;
        void* reuse = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_NE(reuse, MAP_FAILED);
        std::memset(reuse, 'Z', kBytes);
        ::munmap(reuse, kBytes);
      }
    }
    auto moved = (*pipe)->drainTo(pair.sender.get(), loaded_total < kBytes);
    ASSERT_TRUE(moved.ok());
    received += readAvailable(pair.receiver.get());
  }
  EXPECT_TRUE(unmapped);
  EXPECT_EQ((*pipe)->buffered(), 0u);
  ASSERT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

TEST(SplicePipe, DrainReportsAClosedPeer) {
  std::signal(SIGPIPE, SIG_IGN);  // as the server does: splice() has no MSG_NOSIGNAL
  TcpPair pair = connectedPair();
  char* region = static_cast<char*>(
      ::mmap(nullptr, 1u << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  std::memset(region, 'x', 1u << 16);
  auto pipe = SplicePipe::open();
  ASSERT_TRUE(pipe.ok());
  iovec iov{region, 1u << 16};
  ASSERT_TRUE((*pipe)->load(&iov, 1).ok());
  pair.receiver.reset();
  bool failed = false;
  for (int i = 0; i < 100 && !failed; ++i) {
    auto moved = (*pipe)->drainTo(pair.sender.get(), false);
    if (!moved.ok()) {
      failed = true;
    } else if ((*pipe)->buffered() == 0) {
      ASSERT_TRUE((*pipe)->load(&iov, 1).ok());
    }
    usleep(1000);
  }
  EXPECT_TRUE(failed);
  ::munmap(region, 1u << 16);
}

TEST(SplicePipePool, ReusesOnlyEmptyPipesAndStaysBounded) {
  SplicePipePool pool(/*max_idle=*/1);
  auto first = pool.acquire();
  auto second = pool.acquire();
  ASSERT_TRUE(first && second);
  SplicePipe* first_raw = first.get();
  pool.release(std::move(first));
  pool.release(std::move(second));  // over the bound: closed
  EXPECT_EQ(pool.idle(), 1u);
  auto again = pool.acquire();
  EXPECT_EQ(again.get(), first_raw);

  // A pipe still holding bytes is closed, never handed to another connection.
  char* region = static_cast<char*>(
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  iovec iov{region, 4096};
  ASSERT_TRUE(again->load(&iov, 1).ok());
  pool.release(std::move(again));
  EXPECT_EQ(pool.idle(), 0u);
  ::munmap(region, 4096);
}

}  // namespace
}  // namespace ec::net
