#include "proxy/h2_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "http/parse_error.h"
#include "http/serializer.h"
#include "proxy/client_connection.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"
#include "tls/tls_transport.h"

namespace ec::proxy {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kOutputBudget = 64 * 1024;  // frames serialised ahead of the socket

}  // namespace

// --- H2Connection -----------------------------------------------------------------------

H2Connection::H2Connection(WorkerContext& worker, net::UniqueFd fd,
                           std::unique_ptr<net::Transport> transport, tls::TlsTransport* tls,
                           std::string peer_ip, OnClosed on_closed)
    : worker_(worker),
      fd_(std::move(fd)),
      transport_(std::move(transport)),
      tls_(tls),
      peer_ip_(std::move(peer_ip)),
      on_closed_(std::move(on_closed)),
      config_generation_(worker.shared().configGeneration()),
      config_(worker.shared().config()),
      session_(*this, config_->h2_limits, [this] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   worker_.loop().now().time_since_epoch()).count();
      }) {}

H2Connection::~H2Connection() {
  retired_.clear();
  streams_.takeAll();  // deleted here
  free_.clear();
  if (fd_) worker_.loop().remove(fd_.get());
}

void H2Connection::start(std::string_view already_read) {
  worker_.shared().stats().h2_connections.fetch_add(1, std::memory_order_relaxed);
  session_.start();
  interest_ = EPOLLIN | EPOLLRDHUP;
  worker_.loop().add(fd_.get(), interest_, this);
  if (!already_read.empty() && !session_.receive(already_read)) closing_ = true;
  armIdleTimer();
  // TLS read-ahead may already hold the client's next records: no socket event announces them.
  if (!closing_ && transport_->hasBufferedInput()) {
    readInput();  // ends with writeOutput()
    return;
  }
  writeOutput();
}

bool H2Connection::certificateCovers(std::string_view authority) {
  if (tls_ == nullptr) return true;
  // The certificate is the connection's for its life: a client asking for the same authority
  // again (the usual case) gets the last answer, without lower-casing the host again.
  if (covered_known_ && authority == covered_authority_) return covered_;
  covered_ = tls_->certificateCovers(hostOnly(authority));
  covered_authority_.assign(authority);
  covered_known_ = true;
  return covered_;
}

void H2Connection::armIdleTimer() {
  timer_.arm(worker_.loop(), worker_.loop().now() + config_->idle_timeout, [this] {
    if (closed_ || !streams_.empty()) return;
    session_.shutdown();
    closing_ = true;
    writeOutput();
  });
}

void H2Connection::armSendTimer() {
  if (send_timer_.armed() || closed_) return;
  const Millis period{h2::ProgressWatch::period(
      std::min(config_->send_timeout, config_->body_timeout).count())};
  send_timer_.arm(worker_.loop(), worker_.loop().now() + period, [this] { checkSendProgress(); });
}

void H2Connection::checkSendProgress() {
  if (closed_) return;
  using Verdict = h2::ProgressWatch::Verdict;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             worker_.loop().now().time_since_epoch()).count();
  const int64_t send_ms = config_->send_timeout.count();
  // The connection: frames wait for the socket, or response bytes for the client's windows,
  // and nothing moved (DATA handed to frames, or the socket taking frames that carry DATA),
  // or less than limits.min_send_rate allows.
  bool data_waiting = false;
  streams_.forEach([&data_waiting](H2Stream& stream) {
    if (!data_waiting && stream.waitsForClientWindow()) data_waiting = true;
  });
  const bool out_waiting = out_at_ < out_.size();
  const Verdict verdict =
      send_watch_.check(now_ms, out_waiting || data_waiting, sent_progress_, send_ms,
                        h2::ProgressWatch::minBytes(config_->min_send_rate, send_ms));
  if (verdict != Verdict::kFine) {
    endStalled(verdict);
    return;
  }
  // A stream whose own window stays shut (or opens a byte at a time) while the connection
  // moves: reset, so one stuck stream cannot pin its transaction and object forever on a busy
  // connection. And a stream whose request body stopped or trickles: 408 or reset.
  bool wrote = false;
  ProxyStats& stats = worker_.shared().stats();
  streams_.forEach([&](H2Stream& stream) {
    const Verdict stream_verdict = stream.sendStalled(now_ms);
    if (stream_verdict != Verdict::kFine) {
      const bool slow = stream_verdict == Verdict::kSlow;
      (slow ? stats.h2_stream_send_too_slow : stats.h2_stream_send_timeouts)
          .fetch_add(1, std::memory_order_relaxed);
      EC_LOG_EVERY_SECOND(LogLevel::kWarning,
                          "http2: client %s %s stream %d's window for limits.send_timeout "
                          "(%lld ms): stream reset (CANCEL)",
                          peer_ip_.c_str(), slow ? "opened below limits.min_send_rate" : "kept shut",
                          stream.id(), static_cast<long long>(send_ms));
      session_.resetStream(stream.id(), NGHTTP2_CANCEL);
      wrote = true;
      return;
    }
    if (stream.bodyStalled(now_ms)) {
      stats.h2_body_timeouts.fetch_add(1, std::memory_order_relaxed);
      EC_LOG_EVERY_SECOND(LogLevel::kWarning,
                          "http2: client %s sent stream %d's request body below "
                          "limits.min_body_rate for limits.body_timeout (%lld ms): request ended",
                          peer_ip_.c_str(), stream.id(),
                          static_cast<long long>(config_->body_timeout.count()));
      wrote = true;
    }
  });
  if (wrote) writeSoon();
  if (!streams_.empty() || out_at_ < out_.size()) {
    armSendTimer();
  } else {
    send_watch_.reset();
  }
}

void H2Connection::endStalled(h2::ProgressWatch::Verdict verdict) {
  const bool slow = verdict == h2::ProgressWatch::Verdict::kSlow;
  (slow ? worker_.shared().stats().h2_send_too_slow : worker_.shared().stats().h2_send_timeouts)
      .fetch_add(1, std::memory_order_relaxed);
  EC_LOG_EVERY_SECOND(LogLevel::kWarning,
                      "http2: client %s took %s for limits.send_timeout (%lld ms) with %zu "
                      "streams open: connection closed",
                      peer_ip_.c_str(),
                      slow ? "fewer response bytes than limits.min_send_rate" : "no response bytes",
                      static_cast<long long>(config_->send_timeout.count()), streams_.size());
  closing_ = true;
  session_.terminate(NGHTTP2_ENHANCE_YOUR_CALM);
  // Best effort: the GOAWAY goes behind what already waits, in one write attempt.
  if (out_at_ == out_.size()) {
    out_.clear();
    out_at_ = 0;
  }
  session_.takeOutput(out_, out_.size() + 1);
  if (out_at_ < out_.size()) {
    iovec iov{out_.data() + out_at_, out_.size() - out_at_};
    const net::IoResult io = transport_->writev(&iov, 1);
    // The socket is full (the client stopped reading it): the GOAWAY cannot arrive anyway,
    // and the kernel would keep up to its send buffer for as long as the client dribbles.
    if (io.kind != net::IoResult::Kind::kBytes || io.bytes < iov.iov_len) resetOnClose(fd_.get());
  }
  finishClose();
}

void H2Connection::onIo(uint32_t events) {
  if (closed_) return;
  if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
    finishClose();
    return;
  }
  if (events & EPOLLOUT) {
    writeOutput();
    if (closed_) return;
    if (transport_->readWaitsForWritable()) readInput();
    if (closed_) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP)) readInput();
}

void H2Connection::readInput() {
  thread_local char buffer[kReadChunk];
  for (int round = 0; round < 16 && !closed_ && !closing_; ++round) {
    const net::IoResult io = transport_->read(buffer, sizeof buffer);
    if (io.kind == net::IoResult::Kind::kBytes) {
      worker_.shared().stats().client_bytes_in.fetch_add(io.bytes, std::memory_order_relaxed);
      if (!session_.receive(std::string_view(buffer, io.bytes))) closing_ = true;
      // A short read drained the socket (and TLS holds nothing more): skip the read that
      // would only say EAGAIN; level-triggered epoll reports what arrives later.
      if (io.bytes < sizeof buffer && !transport_->hasBufferedInput()) break;
      continue;
    }
    if (io.kind == net::IoResult::Kind::kBlocked) break;
    finishClose();  // EOF or error: an HTTP/2 client that leaves has nothing more to receive
    return;
  }
  if (!closed_ && !closing_ && transport_->hasBufferedInput() && !read_scheduled_) {
    // The round limit left decrypted or read-ahead records behind, which no socket event
    // will announce: read them after this event, once the output below is on its way.
    read_scheduled_ = true;
    worker_.loop().defer([this, alive = std::weak_ptr<bool>(alive_token_)] {
      if (alive.expired()) return;
      read_scheduled_ = false;
      readInput();
    });
  }
  writeOutput();
}

void H2Connection::writeSoon() {
  if (write_scheduled_ || closed_) return;
  write_scheduled_ = true;
  worker_.loop().defer([this, alive = std::weak_ptr<bool>(alive_token_)] {
    if (alive.expired()) return;
    write_scheduled_ = false;
    writeOutput();
  });
}

void H2Connection::refillSoon(int32_t stream) {
  refills_.push_back(stream);
  if (refill_scheduled_ || closed_) return;
  refill_scheduled_ = true;
  worker_.loop().defer([this, alive = std::weak_ptr<bool>(alive_token_)] {
    if (alive.expired()) return;
    runRefills();
  });
}

void H2Connection::runRefills() {
  refill_scheduled_ = false;
  // Refills may queue more: take the list as it is now (ids of closed streams find nothing).
  std::vector<int32_t> ids;
  ids.swap(refills_);
  for (const int32_t id : ids) {
    if (closed_) break;
    if (H2Stream* stream = find(id)) stream->refill();
  }
  ids.clear();
  if (refills_.empty()) refills_.swap(ids);  // keeps the capacity
}

H2Stream* H2Connection::find(int32_t stream) const { return streams_.find(stream); }

H2Stream* H2Connection::open(int32_t stream) {
  if (streams_.find(stream) != nullptr) return nullptr;
  std::unique_ptr<H2Stream> fresh;
  if (!free_.empty()) {
    fresh = std::move(free_.back());
    free_.pop_back();
    fresh->reuse(stream);
  } else {
    fresh = std::make_unique<H2Stream>(*this, stream);
  }
  H2Stream* raw = fresh.get();
  streams_.insert(stream, std::move(fresh));
  return raw;
}

void H2Connection::writeOutput() {
  if (closed_) return;
  while (true) {
    if (out_at_ == out_.size()) {
      out_.clear();
      out_at_ = 0;
      out_has_data_ = false;  // readBody() sets it again (noteSent)
      session_.takeOutput(out_, kOutputBudget);
      if (out_.empty()) break;
    }
    // From an offset: a TLS write takes a record at a time, and moving the rest of up to
    // 64 KiB forward after each would copy it again.
    iovec iov{out_.data() + out_at_, out_.size() - out_at_};
    const net::IoResult io = transport_->writev(&iov, 1);
    if (io.kind == net::IoResult::Kind::kBlocked) {
      armSendTimer();  // the socket is full: the client must take some within send_timeout
      break;
    }
    if (io.kind != net::IoResult::Kind::kBytes) {
      finishClose();
      return;
    }
    worker_.shared().stats().client_bytes_out.fetch_add(io.bytes, std::memory_order_relaxed);
    out_at_ += io.bytes;
    if (out_has_data_) sent_progress_ += io.bytes;
  }
  const bool idle = out_at_ == out_.size() && !session_.wantsWrite();
  if (idle && (closing_ || !session_.wantsRead())) {
    finishClose();
    return;
  }
  updateInterest();
}

void H2Connection::updateInterest() {
  if (closed_) return;
  uint32_t events = 0;
  if (!closing_ && session_.wantsRead()) events |= EPOLLIN | EPOLLRDHUP;
  if (out_at_ < out_.size() || transport_->readWaitsForWritable()) events |= EPOLLOUT;
  if (events != interest_) {
    interest_ = events;
    worker_.loop().modify(fd_.get(), interest_, this);
  }
}

void H2Connection::drain() {
  if (closed_) return;
  session_.shutdown();
  if (streams_.empty()) closing_ = true;
  writeOutput();
}

void H2Connection::finishClose() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  send_timer_.cancel();
  net::closeStream(worker_.loop(), *transport_, fd_);
  for (std::unique_ptr<H2Stream>& stream : streams_.takeAll()) {
    stream->detach();
    worker_.loop().defer([doomed = std::shared_ptr<H2Stream>(std::move(stream))] {});
  }
  alive_token_.reset();
  on_closed_(this);
}

void H2Connection::onRequestHeaders(int32_t stream, std::span<const h2::HeaderField> fields,
                                    bool end_stream) {
  if (worker_.shared().draining()) {
    session_.resetStream(stream, NGHTTP2_REFUSED_STREAM);
    return;
  }
  worker_.shared().stats().h2_streams.fetch_add(1, std::memory_order_relaxed);
  timer_.cancel();
  armSendTimer();
  // Only when a reload moved the generation: std::atomic_load of the shared_ptr takes a lock.
  worker_.shared().refreshConfig(config_, config_generation_);
  if (H2Stream* opened = open(stream)) opened->onHeaders(fields, end_stream);
}

void H2Connection::onRequestHeadersTooLarge(int32_t stream, bool /*end_stream*/) {
  worker_.shared().stats().h2_header_lists_too_large.fetch_add(1, std::memory_order_relaxed);
  if (worker_.shared().draining()) {
    session_.resetStream(stream, NGHTTP2_REFUSED_STREAM);
    return;
  }
  worker_.shared().stats().h2_streams.fetch_add(1, std::memory_order_relaxed);
  timer_.cancel();
  armSendTimer();
  if (H2Stream* opened = open(stream)) opened->onHeadersTooLarge();
}

void H2Connection::onRequestData(int32_t stream, std::string_view data) {
  if (H2Stream* found = find(stream)) found->onData(data);
  else session_.consume(stream, data.size());  // a stream refused or gone: dropped
}

void H2Connection::onRequestEnd(int32_t stream) {
  if (H2Stream* found = find(stream)) found->onEnd();
}

void H2Connection::onStreamClosed(int32_t stream, uint32_t /*error_code*/) {
  std::unique_ptr<H2Stream> closed = streams_.take(stream);
  if (!closed) return;
  closed->detach();
  // Recycled after this event: the stream may be on the stack (a callback inside mem_send).
  retired_.push_back(std::move(closed));
  if (!reap_scheduled_) {
    reap_scheduled_ = true;
    worker_.loop().defer([this, alive = std::weak_ptr<bool>(alive_token_)] {
      if (alive.expired()) return;  // closed: the destructor deletes them
      reap_scheduled_ = false;
      for (std::unique_ptr<H2Stream>& retired : retired_) {
        if (free_.size() >= kFreeStreams) break;  // the rest are deleted below
        retired->recycle();
        free_.push_back(std::move(retired));
      }
      retired_.clear();  // keeps its capacity for the next batch
    });
  }
  if (streams_.empty()) {
    if (worker_.shared().draining()) closing_ = true;
    armIdleTimer();
  }
}

long H2Connection::readResponseBody(int32_t stream, uint8_t* buffer, size_t length, bool& eof) {
  H2Stream* found = find(stream);
  if (found == nullptr) {
    eof = true;
    return 0;
  }
  return found->readBody(buffer, length, eof);
}

void H2Connection::onCalm(h2::CalmReason reason) {
  worker_.shared().stats().h2_calm[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  closing_ = true;
}

void H2Connection::onMalformed() {
  worker_.shared().stats().h2_malformed.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace ec::proxy
