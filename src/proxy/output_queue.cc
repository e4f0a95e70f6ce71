#include "proxy/output_queue.h"

#include <algorithm>

namespace ec::proxy {
namespace {
constexpr int kMaxIov = 64;
}

void OutputQueue::appendOwned(std::string bytes) {
  if (bytes.empty()) return;
  queued_bytes_ += bytes.size();
  // Small writes coalesce into the last owned segment: fewer iovecs per writev.
  if (segments_.size() > front_ + 1 && !segments_.back().body &&
      segments_.back().bytes.size() + bytes.size() <= 16 * 1024) {
    segments_.back().bytes += bytes;
    return;
  }
  segments_.push_back(Segment{std::move(bytes), nullptr, 0, 0});
}

void OutputQueue::appendCopy(std::string_view bytes) { appendOwned(std::string(bytes)); }

void OutputQueue::appendBody(std::shared_ptr<storage::Body> body, uint64_t offset, uint64_t length) {
  if (length == 0) return;
  queued_bytes_ += length;
  segments_.push_back(Segment{{}, std::move(body), offset, length});
}

void OutputQueue::clear() {
  segments_.clear();
  front_ = 0;
  queued_bytes_ = 0;
  head_written_ = 0;
}

Result<bool> OutputQueue::flush(net::Transport& transport, uint64_t& bytes_written) {
  while (front_ < segments_.size()) {
    iovec iov[kMaxIov];
    int count = 0;
    for (size_t i = front_; i < segments_.size() && count < kMaxIov; ++i) {
      const Segment& segment = segments_[i];
      if (segment.body) {
        count += segment.body->peek(segment.offset, segment.length, iov + count, kMaxIov - count);
      } else {
        const size_t skip = (i == front_) ? head_written_ : 0;
        iov[count].iov_base = const_cast<char*>(segment.bytes.data() + skip);
        iov[count].iov_len = segment.bytes.size() - skip;
        ++count;
      }
    }
    const net::IoResult io = transport.writev(iov, count);
    if (io.kind == net::IoResult::Kind::kBlocked) return false;
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
  }
  segments_.clear();  // keeps capacity
  front_ = 0;
  return true;
}

void OutputQueue::popFront() {
  // Release what the segment holds now (an object reference may pin a large body).
  Segment& front = segments_[front_];
  front.body.reset();
  std::string().swap(front.bytes);
  ++front_;
  if (front_ == segments_.size()) {
    segments_.clear();
    front_ = 0;
  }
}

}  // namespace ec::proxy
