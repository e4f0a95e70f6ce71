#include "upstream/origin_exchange.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "upstream/origin_pool.h"

namespace ec::upstream {
namespace {
// 16 KiB per read: most origin responses fit; a buffer that fills grows by doubling.
constexpr size_t kReadChunk = 16 * 1024;
}

OriginExchange::OriginExchange(OriginPool& pool, ExchangeListener& listener)
    : pool_(pool), listener_(&listener), parser_(pool.settings().limits) {}

OriginExchange::~OriginExchange() { abort(); }

void OriginExchange::start(std::string head_bytes, http::Method method, bool has_body) {
  method_ = method;
  request_body_pending_ = has_body;
  head_bytes_ = std::move(head_bytes);
  output_ = head_bytes_;
  output_sent_ = 0;
  pool_.stats().requests.fetch_add(1, std::memory_order_relaxed);
  pool_.acquire(this);
}

void OriginExchange::connectionReady(OriginConnection connection, bool reused) {
  connection_ = std::move(connection);
  reused_connection_ = reused;
  // The pool registered the socket once (ConnectionWatch); events come here while we hold it.
  // A reused connection is watched for reading only: the request goes out at once and EPOLLOUT
  // is added only if the socket pushes back. A new one waits for its connect (EPOLLOUT).
  connection_.watch->setOwner(this);
  if (reused) {
    onConnected();
  } else {
    phase_ = Phase::kConnecting;
    armTimer(pool_.settings().connect_timeout, ErrorKind::kTimeout, "connect timeout");
  }
}

void OriginExchange::startHandshake() {
  connection_.tls = pool_.settings().tls->connect(connection_.fd.get());
  if (!connection_.tls) {
    pool_.stats().tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
    fail(Error::upstream(ErrorKind::kIo, "cannot start TLS toward " + pool_.settings().label));
    return;
  }
  phase_ = Phase::kHandshaking;  // the connect timer keeps running: it covers the handshake
  continueHandshake();
}

void OriginExchange::continueHandshake() {
  switch (connection_.tls->handshake()) {
    case tls::ClientStream::Step::kDone:
      if (connection_.tls->resumed()) {
        pool_.stats().tls_handshakes_resumed.fetch_add(1, std::memory_order_relaxed);
      } else {
        pool_.stats().tls_handshakes_new.fetch_add(1, std::memory_order_relaxed);
      }
      onConnected();
      return;
    case tls::ClientStream::Step::kWantRead:
      setInterest(EPOLLIN | EPOLLRDHUP);
      return;
    case tls::ClientStream::Step::kWantWrite:
      setInterest(EPOLLOUT | EPOLLIN | EPOLLRDHUP);
      return;
    case tls::ClientStream::Step::kFailed:
      break;
  }
  const bool verify = connection_.tls->failure() == tls::ClientStream::Failure::kVerify;
  (verify ? pool_.stats().tls_verify_failures : pool_.stats().tls_handshake_failures)
      .fetch_add(1, std::memory_order_relaxed);
  fail(Error::upstream(ErrorKind::kIo, std::string(verify ? "TLS verification" : "TLS handshake") +
                                           " with " + pool_.settings().label + " failed: " +
                                           connection_.tls->failureDetail()));
}

net::IoResult OriginExchange::readSome(char* buffer, size_t capacity) {
  if (connection_.tls) return connection_.tls->read(buffer, capacity);
  for (;;) {
    const ssize_t n = ::recv(connection_.fd.get(), buffer, capacity, 0);
    if (n > 0) return net::IoResult::of(static_cast<size_t>(n));
    if (n == 0) return net::IoResult::eof();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return net::IoResult::blocked();
    return net::IoResult::error();
  }
}

net::IoResult OriginExchange::writeSome(const char* data, size_t length) {
  if (connection_.tls) {
    const iovec segment{const_cast<char*>(data), length};
    return connection_.tls->writev(&segment, 1);
  }
  for (;;) {
    const ssize_t n = ::send(connection_.fd.get(), data, length, MSG_NOSIGNAL);
    if (n > 0) return net::IoResult::of(static_cast<size_t>(n));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return net::IoResult::blocked();
    return net::IoResult::error();
  }
}

void OriginExchange::onConnected() {
  phase_ = Phase::kSending;
  armRequestTimer();
  flushOutput();
}

void OriginExchange::armRequestTimer() {
  if (response_started_ || input_.readableBytes() > 0 || phase_ == Phase::kDone) return;
  if (output_sent_ < output_.size()) {
    // The origin is taking the request: it may not stall longer than between bytes.
    armTimer(pool_.settings().between_bytes_timeout, ErrorKind::kTimeout, "send timeout");
  } else if (request_body_pending_) {
    timer_.cancel();  // waiting for the client's body: a slow upload is not the origin's fault
  } else {
    armTimer(pool_.settings().first_byte_timeout, ErrorKind::kTimeout, "first byte timeout");
  }
}

void OriginExchange::armTimer(Millis timeout, ErrorKind kind, const char* what) {
  timer_kind_ = kind;
  timer_what_ = what;
  timer_.arm(pool_.loop(), pool_.loop().now() + timeout, [this] {
    pool_.stats().timeouts.fetch_add(1, std::memory_order_relaxed);
    fail(Error::upstream(timer_kind_, std::string(timer_what_) + " from " + pool_.settings().label));
  });
}

void OriginExchange::sendBody(std::string_view data) {
  if (phase_ == Phase::kDone) return;
  output_.append(data);
  if (phase_ == Phase::kSending || phase_ == Phase::kReceivingHead ||
      phase_ == Phase::kReceivingBody) {
    flushOutput();
  }
}

void OriginExchange::finishBody() {
  if (!request_body_pending_) return;
  request_body_pending_ = false;
  if (phase_ == Phase::kSending || phase_ == Phase::kReceivingHead) armRequestTimer();
}

void OriginExchange::flushOutput() {
  bool progressed = false;
  while (output_sent_ < output_.size()) {
    const net::IoResult step = writeSome(output_.data() + output_sent_, output_.size() - output_sent_);
    if (step.kind == net::IoResult::Kind::kBytes) {
      progressed = true;
      output_sent_ += step.bytes;
      pool_.stats().bytes_out.fetch_add(step.bytes, std::memory_order_relaxed);
      continue;
    }
    if (step.kind == net::IoResult::Kind::kBlocked) break;
    const char* detail = connection_.tls ? "TLS write failed" : strerror(errno);
    fail(Error::upstream(ErrorKind::kConnectionReset,
                         "send to " + pool_.settings().label + ": " + detail,
                         reused_connection_ && !response_started_));
    return;
  }
  const bool drained = output_sent_ == output_.size();
  if (drained) {
    output_.clear();
    output_sent_ = 0;
    if (phase_ == Phase::kSending) phase_ = Phase::kReceivingHead;
  }
  if (progressed) armRequestTimer();
  updateInterest();
  if (drained && request_body_pending_) listener_->onRequestBodyDrained();
}

void OriginExchange::updateInterest() {
  if (!connection_.watch || phase_ == Phase::kDone || phase_ == Phase::kHandshaking) return;
  uint32_t events = 0;
  // A TLS stream may need input to finish a write, or to send to finish a read.
  const bool tls_write_waits = connection_.tls && connection_.tls->writeWaitsForReadable();
  const bool tls_read_waits = connection_.tls && connection_.tls->readWaitsForWritable();
  if (!paused_ || tls_write_waits) events |= EPOLLIN | EPOLLRDHUP;
  if (phase_ == Phase::kConnecting || output_sent_ < output_.size() || tls_read_waits) {
    events |= EPOLLOUT;
  }
  setInterest(events);
}

void OriginExchange::setInterest(uint32_t events) {
  // Most changes of phase keep the mask: then no system call (the watch compares).
  if (connection_.watch) connection_.watch->setEvents(events);
}

void OriginExchange::pauseReading() {
  if (paused_) return;
  paused_ = true;
  timer_.cancel();  // a slow client is not the origin's fault
  updateInterest();
}

void OriginExchange::resumeReading() {
  if (!paused_ || phase_ == Phase::kDone) return;
  paused_ = false;
  armTimer(pool_.settings().between_bytes_timeout, ErrorKind::kTimeout, "between bytes timeout");
  updateInterest();
  processInput();  // bytes buffered while paused
  if (phase_ != Phase::kDone && !paused_) readResponse();
}

void OriginExchange::onIo(uint32_t events) {
  if (phase_ == Phase::kConnecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      const int error = net::connectError(connection_.fd.get());
      if (error != 0) {
        pool_.stats().refused.fetch_add(1, std::memory_order_relaxed);
        fail(Error::upstream(error == ECONNREFUSED ? ErrorKind::kConnectionRefused : ErrorKind::kIo,
                             "connect to " + pool_.settings().label + ": " + strerror(error), true));
        return;
      }
      if (pool_.settings().tls) startHandshake();
      else onConnected();
    }
    return;
  }
  if (phase_ == Phase::kHandshaking) {
    continueHandshake();
    return;
  }
  const bool tls_write_waits = connection_.tls && connection_.tls->writeWaitsForReadable();
  const bool tls_read_waits = connection_.tls && connection_.tls->readWaitsForWritable();
  if (((events & EPOLLOUT) || (tls_write_waits && (events & EPOLLIN))) &&
      output_sent_ < output_.size()) {
    flushOutput();
  }
  if (phase_ == Phase::kDone) return;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ||
      (tls_read_waits && (events & EPOLLOUT))) {
    if (!paused_) readResponse();
  }
}

void OriginExchange::readResponse() {
  while (phase_ != Phase::kDone && !paused_) {
    char* space = input_.writeSpace(kReadChunk);
    const net::IoResult io = readSome(space, input_.writableBytes());
    if (io.kind == net::IoResult::Kind::kBytes) {
      const size_t n = io.bytes;
      input_.commitWrite(n);
      pool_.stats().bytes_in.fetch_add(n, std::memory_order_relaxed);
      if (phase_ == Phase::kSending) phase_ = Phase::kReceivingHead;  // early response
      armTimer(pool_.settings().between_bytes_timeout, ErrorKind::kTimeout,
               "between bytes timeout");
      processInput();
      continue;
    }
    if (io.kind == net::IoResult::Kind::kEof) {
      // EOF: ends a close-delimited body, anything else is a truncated response.
      if (phase_ == Phase::kReceivingBody) {
        auto step = decoder_.finishAtEof();
        if (step.ok() && step->done) {
          if (!step->data.empty()) listener_->onResponseData(step->data);
          finishClean();
          return;
        }
      }
      pool_.stats().resets.fetch_add(1, std::memory_order_relaxed);
      fail(Error::upstream(ErrorKind::kClosed,
                           "origin " + pool_.settings().label + " closed the connection early",
                           reused_connection_ && !response_started_ && input_.readableBytes() == 0));
      return;
    }
    if (io.kind == net::IoResult::Kind::kBlocked) {
      if (connection_.tls && connection_.tls->readWaitsForWritable()) updateInterest();
      return;
    }
    pool_.stats().resets.fetch_add(1, std::memory_order_relaxed);
    const char* detail = connection_.tls ? "TLS read failed" : strerror(errno);
    fail(Error::upstream(ErrorKind::kConnectionReset,
                         "recv from " + pool_.settings().label + ": " + detail,
                         reused_connection_ && !response_started_));
    return;
  }
}

void OriginExchange::processInput() {
  while (phase_ != Phase::kDone && !paused_ && input_.readableBytes() > 0) {
    if (phase_ == Phase::kReceivingHead || phase_ == Phase::kSending) {
      auto status = parser_.parse(input_.readable(), method_, head_);
      if (status == http::ResponseParser::Status::kNeedMore) return;
      if (status == http::ResponseParser::Status::kError) {
        pool_.stats().bad_responses.fetch_add(1, std::memory_order_relaxed);
        fail(Error::upstream(ErrorKind::kParse, std::string("bad response from ") +
                                                    pool_.settings().label + ": " +
                                                    std::string(parser_.error().detail)));
        return;
      }
      const size_t head_bytes = parser_.headBytes();
      if (head_.status < 200) {  // 1xx: skip it and parse the next head
        input_.consume(head_bytes);
        parser_.reset();
        head_.clear();
        continue;
      }
      response_started_ = true;
      phase_ = Phase::kReceivingBody;
      decoder_.start(head_.framing, head_.content_length, pool_.settings().limits, false);
      listener_->onResponseHead(head_);
      input_.consume(head_bytes);
      if (phase_ == Phase::kDone) return;  // listener aborted
      if (head_.framing == http::BodyFraming::kNone ||
          (head_.framing == http::BodyFraming::kContentLength && head_.content_length == 0)) {
        finishClean();
        return;
      }
      continue;
    }
    auto step = decoder_.decode(input_.readable());
    if (!step.ok()) {
      pool_.stats().bad_responses.fetch_add(1, std::memory_order_relaxed);
      fail(Error::upstream(ErrorKind::kParse, "bad response body from " + pool_.settings().label +
                                                  ": " + step.error().context));
      return;
    }
    input_.consume(step->consumed);
    if (!step->data.empty()) listener_->onResponseData(step->data);
    if (phase_ == Phase::kDone) return;
    if (step->done) {
      finishClean();
      return;
    }
    if (step->consumed == 0) return;
  }
}

void OriginExchange::finishClean() {
  timer_.cancel();
  // Reuse only when the whole request went out, the response was delimited and nothing extra
  // arrived after it (an origin that sends more than it framed is not trusted again).
  const bool reusable = head_.keep_alive && !request_body_pending_ && output_.empty() &&
                        head_.framing != http::BodyFraming::kCloseDelimited &&
                        input_.readableBytes() == 0;
  phase_ = Phase::kDone;
  releaseConnection(reusable);
  ExchangeListener* listener = listener_;
  listener->onResponseComplete();
}

void OriginExchange::fail(Error error) {
  if (phase_ == Phase::kDone) return;
  timer_.cancel();
  // A pooled connection that the origin closed while idle: retry once on a fresh one.
  if (error.retryable && reused_connection_ && !response_started_ && !retried_ &&
      !request_body_pending_) {
    retried_ = true;
    pool_.stats().retries.fetch_add(1, std::memory_order_relaxed);
    releaseConnection(false);
    input_.clear();
    parser_.reset();
    head_.clear();
    output_ = head_bytes_;
    output_sent_ = 0;
    phase_ = Phase::kWaitingForConnection;
    reused_connection_ = false;
    pool_.acquire(this);
    return;
  }
  phase_ = Phase::kDone;
  if (connection_) releaseConnection(false);
  else pool_.cancel(this);
  EC_LOG_EVERY_SECOND(LogLevel::kWarning, "origin request failed: %s", error.describe().c_str());
  listener_->onExchangeError(error, response_started_);
}

void OriginExchange::releaseConnection(bool reusable) {
  if (!connection_) return;
  pool_.release(std::move(connection_), reusable);
}

void OriginExchange::abort() {
  timer_.cancel();
  if (phase_ != Phase::kDone) {
    phase_ = Phase::kDone;
    if (connection_) releaseConnection(false);
    else pool_.cancel(this);
  }
}

}  // namespace ec::upstream
