#include "proxy/output_queue.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ec::proxy {
namespace {
constexpr int kMaxIov = 64;
constexpr size_t kCoalesceLimit = 16 * 1024;
constexpr size_t kSpareLimit = 32 * 1024;  // a larger buffer is given back, not kept
}

std::string* OutputQueue::appendableTail() {
  if (front_ == segments_.size()) return nullptr;
  Segment& back = segments_.back();
  if (back.body || back.bytes.size() >= kCoalesceLimit) return nullptr;
  return &back.bytes;
}

void OutputQueue::appendOwned(std::string bytes) {
  if (bytes.empty()) return;
  queued_bytes_ += bytes.size();
  // Small writes coalesce into the last owned segment: fewer iovecs per send. A partly
  // written front segment can grow too: its written prefix is skipped by offset.
  std::string* tail = appendableTail();
  if (tail != nullptr && tail->size() + bytes.size() <= kCoalesceLimit) {
    tail->append(bytes);
    return;
  }
  segments_.push_back(Segment{std::move(bytes), nullptr, 0, 0});
}

void OutputQueue::appendCopy(std::string_view bytes) { appendOwned(std::string(bytes)); }

void OutputQueue::appendBody(const std::shared_ptr<storage::Body>& body, uint64_t offset,
                             uint64_t length) {
  if (length == 0) return;
  queued_bytes_ += length;
  if (length <= kInlineBodyBytes) {
    std::string* tail = appendableTail();
    if (tail != nullptr) {
      iovec iov[8];
      const int count = body->peek(offset, length, iov, 8);
      size_t copied = 0;
      for (int i = 0; i < count; ++i) copied += iov[i].iov_len;
      if (copied == length) {  // always, unless the range spans more than 8 chunks
        for (int i = 0; i < count; ++i) tail->append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
        return;
      }
    }
  }
  segments_.push_back(Segment{{}, body, offset, length});  // the one reference taken
}

// A zero-copy disk body whose bytes the store reclaimed while we sent them: what went out may
// be wrong, so the connection must end before the response looks complete.
Result<bool> OutputQueue::staleBody() {
  stale_body_ = false;
  return fail(Error::downstream(ErrorKind::kConnectionReset,
                                "disk body reclaimed by the store while it was sent"));
}

void OutputQueue::clear() {
  segments_.clear();
  front_ = 0;
  queued_bytes_ = 0;
  head_written_ = 0;
  pipe_.reset();  // closing the pipe drops the page references it still held
}

bool OutputQueue::spliceCandidate(size_t index, const net::SplicePipePool* pipes) const {
  const Segment& segment = segments_[index];
  if (pipes == nullptr || !segment.body || segment.length < kSpliceMinBytes) return false;
  // Only page-mapped chunks can be vmspliced. A body in heap chunks (every chunk under
  // Body::kMappedChunkMinBytes: a 16-64 KiB object) is copied anyway, so it rides in the same
  // sendmsg as the head before it instead of costing a send of its own.
  iovec probe;
  return segment.body->peekMapped(segment.offset, 1, &probe, 1) > 0;
}

bool OutputQueue::loadPipe(net::SplicePipePool* pipes) {
  Segment& front = segments_[front_];
  iovec iov[kMaxIov];
  const int count = front.body->peekMapped(front.offset, front.length, iov, kMaxIov);
  if (count == 0) return false;
  if (!pipe_) pipe_ = pipes->acquire();
  if (!pipe_) return false;
  Result<size_t> loaded = pipe_->load(iov, count);
  if (!loaded || *loaded == 0) return false;
  // A zero-copy disk body: its pages are referenced now; if the store's log reclaimed them
  // meanwhile they may hold other bytes (docs/design/disk-store.md "Zero-copy disk hits").
  if (!front.body->valid()) {
    stale_body_ = true;
    return false;
  }
  front.offset += *loaded;
  front.length -= *loaded;
  if (front.length == 0) popFront();
  return true;
}

Result<bool> OutputQueue::flush(net::Transport& transport, uint64_t& bytes_written,
                                net::SplicePipePool* pipes, uint64_t* bytes_spliced) {
  const int fd = transport.rawFd();
  if (fd < 0) pipes = nullptr;  // only the socket itself can take spliced pages
  for (;;) {
    if (pipeHoldsBytes()) {
      const bool more = front_ < segments_.size();
      Result<size_t> moved = pipe_->drainTo(fd, more);
      if (!moved) return fail(std::move(moved.error()));
      if (*moved == 0) return false;  // socket full: wait for EPOLLOUT
      bytes_written += *moved;
      if (bytes_spliced != nullptr) *bytes_spliced += *moved;
      queued_bytes_ -= *moved;
      continue;
    }
    if (front_ == segments_.size()) break;
    if (spliceCandidate(front_, pipes) && loadPipe(pipes)) continue;
    if (stale_body_) return staleBody();
    Result<bool> sent = sendCopies(transport, bytes_written, pipes);
    if (!sent) return sent;
    if (!*sent) return false;
  }
  segments_.clear();  // keeps capacity
  front_ = 0;
  if (pipe_ && pipes != nullptr) pipes->release(std::move(pipe_));
  return true;
}

// One sendmsg over the segments from the front up to (not including) the next one that can be
// spliced. Returns false when the socket is full.
Result<bool> OutputQueue::sendCopies(net::Transport& transport, uint64_t& bytes_written,
                                     net::SplicePipePool* pipes) {
  iovec iov[kMaxIov];
  int count = 0;
  bool splice_follows = false;
  bool guarded = false;  // a zero-copy disk body among the bytes (Body::valid() to check after)
  for (size_t i = front_; i < segments_.size() && count < kMaxIov; ++i) {
    const Segment& segment = segments_[i];
    if (i != front_ && spliceCandidate(i, pipes)) {
      splice_follows = true;
      break;
    }
    if (segment.body) {
      guarded = guarded || segment.body->fileBacked();
      count += segment.body->peek(segment.offset, segment.length, iov + count, kMaxIov - count);
    } else {
      const size_t skip = (i == front_) ? head_written_ : 0;
      iov[count].iov_base = const_cast<char*>(segment.bytes.data() + skip);
      iov[count].iov_len = segment.bytes.size() - skip;
      ++count;
    }
  }
  // Every queued range is available, so only a store-file body reclaimed under us gives no
  // bytes (peek() refuses an invalid body).
  if (count == 0) return staleBody();
  // MSG_MORE before a spliced body: the head and the first body bytes share TCP segments.
  const net::IoResult io = transport.writev(iov, count, splice_follows);
  if (io.kind == net::IoResult::Kind::kBlocked) return false;
  // Copied by the kernel now: bytes of a zero-copy disk body reclaimed meanwhile are garbage.
  if (guarded) {
    for (size_t i = front_; i < segments_.size(); ++i) {
      if (segments_[i].body && !segments_[i].body->valid()) return staleBody();
    }
  }
  if (io.kind != net::IoResult::Kind::kBytes) {
    return fail(Error::downstream(ErrorKind::kConnectionReset, "client connection broken"));
  }
  const size_t n = io.bytes;
  bytes_written += static_cast<uint64_t>(n);
  queued_bytes_ -= static_cast<uint64_t>(n);
  size_t left = static_cast<size_t>(n);
  while (left > 0 && front_ < segments_.size()) {
    Segment& front = segments_[front_];
    if (front.body) {
      const uint64_t take = std::min<uint64_t>(left, front.length);
      front.offset += take;
      front.length -= take;
      left -= take;
      if (front.length == 0) popFront();
    } else {
      const size_t remaining = front.bytes.size() - head_written_;
      if (left >= remaining) {
        left -= remaining;
        head_written_ = 0;
        popFront();
      } else {
        head_written_ += left;
        left = 0;
      }
    }
  }
  return true;
}

void OutputQueue::popFront() {
  // Release what the segment holds now (an object reference may pin a large body).
  Segment& front = segments_[front_];
  front.body.reset();
  const size_t capacity = front.bytes.capacity();
  if (capacity <= kSpareLimit && capacity > spare_.capacity()) {
    front.bytes.clear();
    spare_ = std::move(front.bytes);  // a smaller spare it replaces is released
  } else if (capacity > std::string().capacity()) {
    std::string().swap(front.bytes);
  }
  ++front_;
  if (front_ == segments_.size()) {
    segments_.clear();
    front_ = 0;
  }
}

}  // namespace ec::proxy
