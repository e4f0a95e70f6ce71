// Body: chunked append, peek into iovecs, states, observers, and read while write across threads.

#include "storage/body.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ec::storage {
namespace {

// Reads [offset, offset + max_bytes) through peek(), as a writev() caller would see it.
std::string readAll(const Body& body, uint64_t offset = 0, uint64_t max_bytes = UINT64_MAX,
                    int max_iov = 4) {
  std::string out;
  iovec iov[16];
  while (out.size() < max_bytes) {
    const int n = body.peek(offset + out.size(), max_bytes - out.size(), iov, max_iov);
    if (n == 0) break;
    for (int i = 0; i < n; ++i)
      out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  }
  return out;
}

char patternByte(uint64_t i) { return static_cast<char>('a' + (i * 7 + i / 251) % 26); }

std::string pattern(uint64_t from, uint64_t n) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; ++i) s[i] = patternByte(from + i);
  return s;
}

TEST(BodyTest, KnownSizeIsOneChunkAndOneIovec) {
  Body body(10000);
  body.append(pattern(0, 4000));
  body.append(pattern(4000, 6000));
  body.finish();
  EXPECT_EQ(body.state(), Body::State::kComplete);
  EXPECT_EQ(body.available(), 10000u);
  iovec iov[4];
  ASSERT_EQ(body.peek(0, UINT64_MAX, iov, 4), 1);
  EXPECT_EQ(iov[0].iov_len, 10000u);
  EXPECT_EQ(readAll(body), pattern(0, 10000));
  EXPECT_GE(body.chargedBytes(), 10000u);
  EXPECT_LT(body.chargedBytes(), 10000u + 1024);
}

TEST(BodyTest, UnknownSizeGrowsInChunksAndPeekCrossesThem) {
  Body body(0);
  const uint64_t total = 3 * Body::kMaxGrowChunkBytes + 12345;  // enough to regrow the directory
  uint64_t written = 0;
  std::mt19937 rng(7);
  size_t last_charge = body.chargedBytes();
  while (written < total) {
    const uint64_t n = std::min<uint64_t>(total - written, 1 + rng() % 70000);
    body.append(pattern(written, n));
    written += n;
    EXPECT_GE(body.chargedBytes(), last_charge);
    last_charge = body.chargedBytes();
  }
  EXPECT_EQ(body.available(), total);
  EXPECT_EQ(readAll(body), pattern(0, total));
  // Slices at odd offsets, bounded by max_bytes and by max_iov.
  EXPECT_EQ(readAll(body, 4095, 3), pattern(4095, 3));
  EXPECT_EQ(readAll(body, 100000, 2'000'000, 1), pattern(100000, 2'000'000));
  iovec iov[2];
  const int n = body.peek(1000, UINT64_MAX, iov, 2);
  EXPECT_EQ(n, 2);  // limited by max_iov, not by the data
  // Growth wastes less than half of what is held.
  EXPECT_LT(body.chargedBytes(), total * 2);
}

TEST(BodyTest, PeekPastTheEndOrWithNoRoomReturnsZero) {
  Body body(0);
  iovec iov[1];
  EXPECT_EQ(body.peek(0, 100, iov, 1), 0);
  body.append("hello");
  EXPECT_EQ(body.peek(5, 100, iov, 1), 0);
  EXPECT_EQ(body.peek(0, 0, iov, 1), 0);
  EXPECT_EQ(body.peek(0, 100, iov, 0), 0);
  ASSERT_EQ(body.peek(1, 3, iov, 1), 1);
  EXPECT_EQ(std::string(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len), "ell");
}

TEST(BodyTest, ReserveAndCommitWriteInPlaceAcrossChunks) {
  Body body(0);  // unknown size: small chunks, so a reservation spans several
  body.append(pattern(0, 1000));
  iovec spans[16];
  const int n = body.reserve(200000, spans, 16);
  ASSERT_GT(n, 1);
  uint64_t covered = 0;
  for (int i = 0; i < n; ++i) {
    const std::string bytes = pattern(1000 + covered, spans[i].iov_len);
    std::memcpy(spans[i].iov_base, bytes.data(), bytes.size());
    covered += spans[i].iov_len;
  }
  EXPECT_EQ(covered, 200000u);
  EXPECT_EQ(body.available(), 1000u);  // nothing visible before commit
  body.commit(150000);
  EXPECT_EQ(body.available(), 151000u);
  body.commit(50000);
  body.append(pattern(201000, 5000));
  body.finish();
  EXPECT_EQ(readAll(body), pattern(0, 206000));
}

TEST(BodyTest, APartialBodyHoldsOnlyItsWindow) {
  Body body(1000000, 300000, 700000);
  EXPECT_TRUE(body.partial());
  EXPECT_EQ(body.available(), 300000u);
  body.append(pattern(300000, 400000));
  EXPECT_EQ(body.available(), 700000u);
  iovec iov[4];
  EXPECT_EQ(body.peek(0, 100, iov, 4), 0);        // below the window: nothing, never garbage
  EXPECT_EQ(body.peekMapped(299999, 10, iov, 4), 0);
  EXPECT_EQ(readAll(body, 300000, 400000), pattern(300000, 400000));
  EXPECT_LE(body.chargedBytes(), 400000u + 65536u);  // holds the window, not the whole body
  EXPECT_FALSE(Body(1000).partial());
}

TEST(BodyTest, OverrunningTheExpectedSizeKeepsAppending) {
  Body body(4);
  body.append("abcdefgh");
  EXPECT_EQ(readAll(body), "abcdefgh");
}

TEST(BodyTest, FailKeepsBytesReadableAndIsFinal) {
  Body body(0);
  body.append("partial");
  body.fail();
  EXPECT_EQ(body.state(), Body::State::kFailed);
  EXPECT_EQ(readAll(body), "partial");
  body.fail();
  EXPECT_EQ(body.state(), Body::State::kFailed);
  Body done(0);
  done.finish();
  done.fail();  // too late: a complete body stays complete
  EXPECT_EQ(done.state(), Body::State::kComplete);
}

class CountingObserver final : public BodyObserver {
 public:
  void onBodyProgress() override { calls.fetch_add(1); }
  std::atomic<int> calls{0};
};

TEST(BodyTest, ObserversHearAppendFinishAndStopAfterUnsubscribe) {
  Body body(0);
  CountingObserver a;
  CountingObserver b;
  body.subscribe(&a);
  body.subscribe(&b);
  body.append("x");
  body.append("");  // nothing new: no wake-up
  body.unsubscribe(&b);
  body.append("y");
  body.finish();
  EXPECT_EQ(a.calls.load(), 3);
  EXPECT_EQ(b.calls.load(), 1);
  body.unsubscribe(&b);  // twice is harmless
}

class SelfRemovingObserver final : public BodyObserver {
 public:
  explicit SelfRemovingObserver(Body& body) : body_(body) {}
  void onBodyProgress() override {
    ++calls;
    body_.unsubscribe(this);
  }
  Body& body_;
  int calls = 0;
};

TEST(BodyTest, AnObserverMayUnsubscribeItselfFromItsCallback) {
  Body body(0);
  SelfRemovingObserver self(body);
  CountingObserver other;
  body.subscribe(&self);
  body.subscribe(&other);
  body.append("a");
  body.append("b");
  EXPECT_EQ(self.calls, 1);
  EXPECT_EQ(other.calls.load(), 2);
}

// A reader that sleeps until the writer's observer call wakes it, as the net layer does.
class WakeupReader final : public BodyObserver {
 public:
  void onBodyProgress() override {
    std::lock_guard lock(mu_);
    ++events_;
    cv_.notify_one();
  }
  void waitForEvent(uint64_t seen) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return events_ > seen; });
  }
  uint64_t events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t events_ = 0;
};

TEST(BodyTest, ReadersOnOtherThreadsSeeEveryByteWhileTheWriterAppends) {
  for (uint64_t expected : {uint64_t{0}, uint64_t{1} << 20}) {
    Body body(expected);
    const uint64_t total = (3u << 20) + 777;
    std::atomic<int> mismatches{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
      readers.emplace_back([&, r] {
        WakeupReader waker;
        const bool sleeps = r == 0;  // reader 0 waits for wake-ups, the others poll
        if (sleeps) body.subscribe(&waker);
        uint64_t offset = 0;
        iovec iov[8];
        for (;;) {
          const uint64_t seen = sleeps ? waker.events() : 0;
          const Body::State state = body.state();  // read before peeking: no byte is skipped
          const int n = body.peek(offset, 64 << 10, iov, 8);
          for (int i = 0; i < n; ++i) {
            const char* p = static_cast<const char*>(iov[i].iov_base);
            for (size_t k = 0; k < iov[i].iov_len; ++k) {
              if (p[k] != patternByte(offset + k)) mismatches.fetch_add(1);
            }
            offset += iov[i].iov_len;
          }
          if (n == 0) {
            if (state != Body::State::kFilling) break;
            if (sleeps) {
              waker.waitForEvent(seen);
            } else {
              std::this_thread::yield();
            }
          }
        }
        if (sleeps) body.unsubscribe(&waker);
        if (offset != total) mismatches.fetch_add(1);
      });
    }
    std::mt19937 rng(42);
    for (uint64_t written = 0; written < total;) {
      const uint64_t n = std::min<uint64_t>(total - written, 1 + rng() % 20000);
      body.append(pattern(written, n));
      written += n;
    }
    body.finish();
    for (std::thread& t : readers) t.join();
    EXPECT_EQ(mismatches.load(), 0) << "expected_size " << expected;
  }
}

TEST(Body, LargeChunksArePageMappedAndSmallOnesAreNot) {
  Body small(1000);
  small.append(std::string(1000, 's'));
  iovec iov[4];
  EXPECT_EQ(small.peekMapped(0, UINT64_MAX, iov, 4), 0);  // heap chunk: copy it

  const size_t size = Body::kMappedChunkMinBytes * 3;
  Body large(size);
  const std::string bytes(size, 'L');
  large.append(bytes);
  ASSERT_EQ(large.peekMapped(10, UINT64_MAX, iov, 4), 1);
  EXPECT_EQ(iov[0].iov_len, size - 10);
  EXPECT_EQ(std::string(static_cast<char*>(iov[0].iov_base), iov[0].iov_len), bytes.substr(10));
}

TEST(Body, AGrowingBodyBecomesSpliceableOnceItsChunksAreLarge) {
  Body growing(0);  // unknown size: chunks double from 4 KiB
  std::string all;
  for (int i = 0; i < 64; ++i) {
    const std::string piece(8192, static_cast<char>('a' + i % 26));
    growing.append(piece);
    all += piece;
  }
  iovec iov[16];
  EXPECT_EQ(growing.peekMapped(0, UINT64_MAX, iov, 16), 0);  // the first chunk is small
  // Find the first mapped offset; from there on peekMapped covers the rest of the body.
  uint64_t offset = 0;
  while (offset < all.size() && growing.peekMapped(offset, UINT64_MAX, iov, 16) == 0) {
    offset += 1024;
  }
  ASSERT_LT(offset, all.size());
  const int n = growing.peekMapped(offset, UINT64_MAX, iov, 16);
  std::string seen;
  for (int i = 0; i < n; ++i) seen.append(static_cast<char*>(iov[i].iov_base), iov[i].iov_len);
  EXPECT_EQ(seen, all.substr(offset));
  // The byte-for-byte view (peek) is unchanged.
  EXPECT_EQ(readAll(growing, 0, UINT64_MAX, 16), all);
}

}  // namespace
}  // namespace ec::storage
