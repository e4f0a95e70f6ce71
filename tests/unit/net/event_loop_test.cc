#include "net/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "net/buffer.h"
#include "net/socket.h"

namespace ec::net {
namespace {

TEST(EventLoop, PostFromAnotherThreadRunsOnTheLoop) {
  EventLoop loop;
  std::atomic<bool> ran_in_loop{false};
  std::thread runner([&] { loop.run(); });
  loop.post([&] {
    ran_in_loop = loop.inLoopThread();
    loop.stop();
  });
  runner.join();
  EXPECT_TRUE(ran_in_loop);
}

TEST(EventLoop, TimersFireInDeadlineOrderAndCancelledOnesDoNot) {
  EventLoop loop;
  std::vector<int> fired;
  Timer late, early, cancelled;
  std::thread runner([&] { loop.run(); });
  loop.post([&] {
    late.arm(loop, loop.now() + Millis{30}, [&] {
      fired.push_back(2);
      loop.stop();
    });
    early.arm(loop, loop.now() + Millis{5}, [&] { fired.push_back(1); });
    cancelled.arm(loop, loop.now() + Millis{10}, [&] { fired.push_back(99); });
    cancelled.cancel();
  });
  runner.join();
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}

TEST(EventLoop, ATimerDestroyedBeforeItsDeadlineNeverFires) {
  EventLoop loop;
  bool fired = false;
  Timer stopper;
  std::thread runner([&] { loop.run(); });
  loop.post([&] {
    {
      Timer doomed;
      doomed.arm(loop, loop.now() + Millis{1}, [&] { fired = true; });
    }
    stopper.arm(loop, loop.now() + Millis{20}, [&] { loop.stop(); });
  });
  runner.join();
  EXPECT_FALSE(fired);
}

class Recorder : public IoHandler {
 public:
  void onIo(uint32_t events) override { seen |= events; }
  uint32_t seen = 0;
};

TEST(EventLoop, DispatchesReadiness) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  EventLoop loop;
  Recorder recorder;
  ASSERT_TRUE(loop.add(fds[0], EPOLLIN, &recorder));
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  Timer stopper;
  std::thread runner([&] { loop.run(); });
  loop.post([&] { stopper.arm(loop, loop.now() + Millis{20}, [&] { loop.stop(); }); });
  runner.join();
  EXPECT_TRUE(recorder.seen & EPOLLIN);
  close(fds[0]);
  close(fds[1]);
}

TEST(Socket, ParsesAddresses) {
  auto v4 = parseSocketAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->toString(), "127.0.0.1:8080");
  auto v6 = parseSocketAddress("[::1]:9090");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->toString(), "[::1]:9090");
  EXPECT_EQ(parseSocketAddress("localhost:80")->toString(), "127.0.0.1:80");
  EXPECT_FALSE(parseSocketAddress("127.0.0.1").ok());
  EXPECT_FALSE(parseSocketAddress("127.0.0.1:65536").ok());
  EXPECT_FALSE(parseSocketAddress("example.org:80").ok());  // no DNS here
  EXPECT_FALSE(parseSocketAddress("[::1:80").ok());
}

TEST(Socket, ListensOnAnEphemeralPortAndConnects) {
  auto address = parseSocketAddress("127.0.0.1:0");
  ASSERT_TRUE(address.ok());
  auto listener = listenOn(*address, true);
  ASSERT_TRUE(listener.ok());
  const SocketAddress bound = localAddress(listener->get());
  EXPECT_NE(bound.port(), 0);
  auto client = startConnect(bound);
  ASSERT_TRUE(client.ok());
}

TEST(Buffer, KeepsUnreadBytesAcrossGrowth) {
  Buffer buffer(8);
  buffer.append("hello ");
  buffer.consume(2);
  buffer.append("world, and more than eight bytes");
  EXPECT_EQ(buffer.readable(), "llo world, and more than eight bytes");
  buffer.consume(buffer.readableBytes());
  EXPECT_EQ(buffer.readableBytes(), 0u);
}

}  // namespace
}  // namespace ec::net
