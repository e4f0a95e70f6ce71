#include "net/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
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

TEST(EventLoop, CountsIterationsOnlyWhileRunning) {
  EventLoop loop;
  EXPECT_EQ(loop.iteration(), 0u);
  uint64_t first = 0;
  uint64_t second = 0;
  std::thread runner([&] { loop.run(); });
  loop.post([&] {
    first = loop.iteration();
    loop.post([&] {
      second = loop.iteration();
      loop.stop();
    });
  });
  runner.join();
  EXPECT_GE(first, 1u);
  EXPECT_GT(second, first);  // posted from the loop: runs in a later iteration
  EXPECT_EQ(loop.iteration(), 0u);
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

TEST(EventLoop, WorkPostedFromTheLoopItselfRunsWithoutWaitingForAnEvent) {
  // A post from the loop thread skips the eventfd wake-up; the loop must still not block in
  // epoll_wait with work pending. A chain of posts each posting the next would take about a
  // second per link (epoll_wait's idle timeout) if it did: the test would never finish.
  EventLoop loop;
  int remaining = 2000;
  std::function<void()> link = [&] {
    if (--remaining == 0) {
      loop.stop();
      return;
    }
    loop.post(link);
  };
  std::thread runner([&] { loop.run(); });
  loop.post(link);
  runner.join();
  EXPECT_EQ(remaining, 0);
}

// Destroys its partner (through destroyLater) when it sees input first; counts destructions.
class Partner : public IoHandler {
 public:
  Partner(EventLoop& loop, int& destroyed) : loop_(loop), destroyed_(destroyed) {}
  ~Partner() override { ++destroyed_; }
  void onIo(uint32_t) override {
    ++events;
    char byte;
    [[maybe_unused]] ssize_t n = read(fd, &byte, 1);
    if (partner != nullptr && *partner != nullptr) {
      Partner* doomed = *partner;
      *partner = nullptr;
      doomed->partner = nullptr;  // if its event is queued in this round, it must not strike back
      loop_.remove(doomed->fd);  // no later round may see it; this round's event may be queued
      loop_.destroyLater(doomed);
      EXPECT_EQ(destroyed_, 0);  // not yet: its event may be in this very batch
    }
  }
  Partner** partner = nullptr;
  int fd = -1;
  int events = 0;

 private:
  EventLoop& loop_;
  int& destroyed_;
};

TEST(EventLoop, DestroyLaterOutlivesTheBatchAndIsImmediateWhenTheLoopIsStopped) {
  int a_fds[2], b_fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a_fds), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b_fds), 0);
  EventLoop loop;
  int destroyed = 0;
  auto* a = new Partner(loop, destroyed);
  auto* b = new Partner(loop, destroyed);
  Partner* a_slot = a;
  Partner* b_slot = b;
  a->partner = &b_slot;  // whichever is dispatched first destroys the other
  b->partner = &a_slot;
  a->fd = a_fds[0];
  b->fd = b_fds[0];
  ASSERT_TRUE(loop.add(a_fds[0], EPOLLIN, a));
  ASSERT_TRUE(loop.add(b_fds[0], EPOLLIN, b));
  ASSERT_EQ(write(a_fds[1], "x", 1), 1);
  ASSERT_EQ(write(b_fds[1], "x", 1), 1);
  Timer stopper;
  std::thread runner([&] { loop.run(); });
  loop.post([&] { stopper.arm(loop, loop.now() + Millis{50}, [&] { loop.stop(); }); });
  runner.join();
  EXPECT_EQ(destroyed, 1);  // the partner went after its batch (ASan checks nobody touched it)
  Partner* survivor = a_slot != nullptr ? a_slot : b_slot;
  ASSERT_NE(survivor, nullptr);
  loop.remove(a_slot != nullptr ? a_fds[0] : b_fds[0]);
  loop.destroyLater(survivor);  // the loop is not running: at once
  EXPECT_EQ(destroyed, 2);
  for (int fd : {a_fds[0], a_fds[1], b_fds[0], b_fds[1]}) close(fd);
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
