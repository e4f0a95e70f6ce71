#include "proxy/client_connection.h"

#include <sys/socket.h>

#include <cerrno>

#include "http/date.h"
#include "http/parse_error.h"
#include "http/serializer.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"
#include "tls/tls_transport.h"

namespace ec::proxy {
namespace {
constexpr size_t kReadChunk = 16 * 1024;
}

void resetOnClose(int fd) {
  // The kernel may hold megabytes of the answer in the socket (its send buffer autotunes up to
  // tcp_wmem's maximum, 4 MiB); an orderly close would keep them, and the socket, for as long
  // as the slow reader dribbles. SO_LINGER 0 makes the close a reset that drops them.
  if (fd < 0) return;
  const linger drop{1, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &drop, sizeof drop);
}

ClientConnection::ClientConnection(WorkerContext& worker, net::UniqueFd fd,
                                   std::unique_ptr<net::Transport> transport, tls::TlsTransport* tls,
                                   std::string peer_ip, OnClosed on_closed)
    : worker_(worker),
      fd_(std::move(fd)),
      transport_(std::move(transport)),
      tls_(tls),
      peer_ip_(std::move(peer_ip)),
      on_closed_(std::move(on_closed)),
      config_(worker.shared().config()),
      parser_(config_->limits) {
  head_.fields.reserve(32);
}

ClientConnection::~ClientConnection() {
  transaction_.reset();
  retired_transaction_.reset();
  if (fd_) worker_.loop().remove(fd_.get());
}

void ClientConnection::start() {
  interest_ = EPOLLIN | EPOLLRDHUP;
  worker_.loop().add(fd_.get(), interest_, this);
  armHeaderTimer();
}

std::string_view ClientConnection::rawHead() const {
  if (!head_copy_.empty()) return head_copy_;
  return input_.readable().substr(0, parser_.headBytes());
}

void ClientConnection::armHeaderTimer() {
  // Idle keep-alive connections wait idle_timeout for a first byte; once a request has begun
  // it must complete within header_timeout (slowloris defence).
  // A TLS handshake is held to the header timeout as well.
  const bool partial = input_.readableBytes() > 0;
  const bool handshaking = tls_ != nullptr && !tls_->handshakeDone();
  const Millis timeout = (partial || handshaking) ? config_->header_timeout : config_->idle_timeout;
  header_deadline_ = worker_.loop().now() + timeout;
  header_timer_partial_ = partial;
  header_timer_live_ = true;
  if (!timer_.armed() || header_deadline_ < timer_.deadline()) armHeaderTimerAt(header_deadline_);
}

void ClientConnection::armHeaderTimerAt(MonoTime deadline) {
  timer_.arm(worker_.loop(), deadline, [this] { onHeaderTimer(); });
}

void ClientConnection::onHeaderTimer() {
  if (!header_timer_live_ || transaction_ || closed_) return;
  if (worker_.loop().now() < header_deadline_) {
    armHeaderTimerAt(header_deadline_);  // the deadline moved since the timer was armed
    return;
  }
  header_timer_live_ = false;
  if (tls_ != nullptr && !tls_->handshakeDone()) {
    tls_->noteHandshakeTimeout();
    abortNow();
    return;
  }
  if (header_timer_partial_) {
    worker_.shared().stats().header_timeouts.fetch_add(1, std::memory_order_relaxed);
    respondError(408, "Request header timeout.\n", false, 0);
  } else {
    finishClose();
  }
}

int64_t ClientConnection::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             worker_.loop().now().time_since_epoch()).count();
}

void ClientConnection::noteSendProgress(uint64_t written) {
  send_progress_ += written;
  if (!want_write_) {
    if (!send_waiting_) return;  // the common case: the answer left in one go
    send_waiting_ = false;
    // The answer of a finished request is out: from now on the connection is idle. The send
    // check lapses at its next firing.
    if (!transaction_ && !closing_ && !header_deadline_armed_) armHeaderTimer();
    return;
  }
  // Bytes wait for the client: it must take at least min_send_rate's worth per send_timeout
  // (and at least one byte).
  send_waiting_ = true;
  armSendTimer();
}

void ClientConnection::armSendTimer() {
  if (send_timer_.armed() || closed_) return;
  const Millis period{h2::ProgressWatch::period(config_->send_timeout.count())};
  send_timer_.arm(worker_.loop(), worker_.loop().now() + period, [this] { checkSendProgress(); });
}

void ClientConnection::checkSendProgress() {
  if (closed_) return;
  const int64_t timeout_ms = config_->send_timeout.count();
  const h2::ProgressWatch::Verdict verdict =
      send_watch_.check(nowMs(), want_write_, send_progress_, timeout_ms,
                        h2::ProgressWatch::minBytes(config_->min_send_rate, timeout_ms));
  if (verdict == h2::ProgressWatch::Verdict::kFine) {
    if (want_write_) armSendTimer();
    else send_watch_.reset();
    return;
  }
  ProxyStats& stats = worker_.shared().stats();
  if (verdict == h2::ProgressWatch::Verdict::kSlow) {
    stats.send_too_slow.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats.send_timeouts.fetch_add(1, std::memory_order_relaxed);
  }
  resetOnClose(fd_.get());
  abortNow();
}

void ClientConnection::armBodyTimer() {
  if (body_timer_.armed() || closed_) return;
  const Millis period{h2::ProgressWatch::period(config_->body_timeout.count())};
  body_timer_.arm(worker_.loop(), worker_.loop().now() + period, [this] { checkBodyProgress(); });
}

void ClientConnection::checkBodyProgress() {
  if (closed_) return;
  // Waiting for the client's body bytes; not while the origin holds the body back.
  const bool waiting = body_active_ && !body_paused_ && !read_eof_;
  const int64_t timeout_ms = config_->body_timeout.count();
  const h2::ProgressWatch::Verdict verdict =
      body_watch_.check(nowMs(), waiting, input_progress_, timeout_ms,
                        h2::ProgressWatch::minBytes(config_->min_body_rate, timeout_ms));
  if (verdict == h2::ProgressWatch::Verdict::kFine) {
    if (body_active_) armBodyTimer();
    else body_watch_.reset();
    return;
  }
  worker_.shared().stats().body_timeouts.fetch_add(1, std::memory_order_relaxed);
  body_active_ = false;
  if (body_buffering_ && !transaction_) {
    // Nothing reached an origin and nothing was answered: 408 and close.
    body_buffering_ = false;
    buffered_body_.clear();
    respondError(408, "Request body timeout.\n", false, 0);
  } else {
    abortNow();  // part of the body already went to the origin: only a close is honest now
  }
}

void ClientConnection::onIo(uint32_t events) {
  if (closed_) return;
  if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
    abortNow();  // the peer is gone both ways (or reset): nothing more can be delivered
    return;
  }
  if (events & EPOLLOUT) {
    flush();
    if (closed_) return;
    if (transaction_ && output_.queuedBytes() < kHighWatermark) transaction_->onWritable();
    if (closed_) return;
    // A TLS read (the handshake) that waited for room to send.
    if (transport_->readWaitsForWritable()) readInput();
    if (closed_) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    // The client spoke while its request is being answered (a pipelined request, or a close):
    // now reading really is turned off (see updateInterest).
    if (transaction_ && !body_active_) read_event_while_busy_ = true;
    readInput();
    // A TLS write that waited for input (the handshake finishing) may go now.
    if (!closed_ && want_write_ && transport_->writeWaitsForReadable()) flush();
  }
}

void ClientConnection::readInput() {
  // While a request without a body is being answered its head lives in input_, so nothing more
  // is read (pipelined requests wait in the socket): views stay valid without copying.
  while (!closed_ && !read_eof_) {
    if (transaction_ && !body_active_) break;
    if (body_active_ && body_paused_) break;
    char* space = input_.writeSpace(kReadChunk);
    const size_t room = input_.writableBytes();
    const net::IoResult io = transport_->read(space, room);
    if (io.kind == net::IoResult::Kind::kBytes) {
      const size_t n = io.bytes;
      input_.commitWrite(n);
      input_progress_ += n;
      if (handOverIfH2()) return;
      worker_.shared().stats().client_bytes_in.fetch_add(n, std::memory_order_relaxed);
      processInput();
      // A short read drained the socket: skip the recv that would only say EAGAIN (level-
      // triggered epoll reports anything that arrives later). TLS may hold decrypted bytes
      // that no socket event announces.
      if (n < room && !transport_->hasBufferedInput()) break;
      continue;
    }
    if (io.kind == net::IoResult::Kind::kEof) {
      read_eof_ = true;
      if (body_active_) {
        // The client gave up mid-body: nothing sensible can be forwarded.
        abortNow();
        return;
      }
      if (!transaction_ && output_.empty()) finishClose();
      else closing_ = true;
      return;
    }
    if (io.kind == net::IoResult::Kind::kBlocked) {
      if (handOverIfH2()) return;
      break;
    }
    abortNow();
    return;
  }
  updateInterest();
}

const tls::TlsInfo* ClientConnection::tlsInfo() const {
  return tls_ != nullptr ? &tls_->info() : nullptr;
}

bool ClientConnection::handOverIfH2() {
  if (alpn_checked_ || tls_ == nullptr || !tls_->handshakeDone()) return false;
  alpn_checked_ = true;
  if (tls_->info().alpn != "h2" || !on_h2_) return false;
  timer_.cancel();
  worker_.loop().remove(fd_.get());
  closed_ = true;
  alive_token_.reset();
  OnH2 handler = on_h2_;
  handler(this);  // takes fd_, transport_ and the bytes read so far
  return true;
}

std::string ClientConnection::takeInput() {
  std::string bytes(input_.readable());
  input_.clear();
  return bytes;
}

void ClientConnection::processInput() {
  if (closed_) return;
  if (body_active_) {
    feedBody();
    return;
  }
  while (!transaction_ && !closing_ && !closed_ && input_.readableBytes() > 0) {
    const auto status = parser_.parse(input_.readable(), head_);
    if (status == http::RequestParser::Status::kNeedMore) {
      // The header deadline starts with a request's first byte and is never extended, so a
      // head trickled in a byte at a time still ends at header_timeout (slowloris).
      if (!header_deadline_armed_) {
        header_deadline_armed_ = true;
        armHeaderTimer();
      }
      return;
    }
    if (status == http::RequestParser::Status::kError) {
      const http::ParseError& error = parser_.error();
      respondError(http::statusForParseError(error.kind), "Bad request.\n", true,
                   static_cast<int>(error.kind));
      return;
    }
    startRequest();
  }
}

void ClientConnection::startRequest() {
  header_timer_live_ = false;  // timer_ stays armed: it does nothing when it fires now
  header_deadline_armed_ = false;
  if (worker_.shared().draining()) closing_ = true;
  worker_.shared().refreshConfig(config_, config_generation_);  // each request sees the newest
  const bool has_body = head_.framing == http::BodyFraming::kChunked ||
                        (head_.framing == http::BodyFraming::kContentLength && head_.content_length > 0);
  if (!has_body) {
    startTransaction();
    return;
  }
  // Re-home the head: the body will be read into input_, which may move.
  const size_t head_bytes = parser_.headBytes();
  head_copy_.assign(input_.readable().substr(0, head_bytes));
  input_.consume(head_bytes);
  parser_.reset();
  head_.clear();
  http::RequestParser reparse(config_->limits);
  if (reparse.parse(head_copy_, head_) != http::RequestParser::Status::kDone) {
    respondError(400, "Bad request.\n", false, 0);
    return;
  }
  body_decoder_.start(head_.framing, head_.content_length, config_->limits, true);
  body_active_ = true;
  // Bodies up to kBufferedBodyBytes are read and checked whole before anything reaches an
  // origin, so a malformed body is refused with its status and never half-forwarded; larger
  // bodies stream once that much has arrived intact.
  body_buffering_ = true;
  buffered_body_.clear();
  if (head_.expect_continue) output_.appendCopy("HTTP/1.1 100 Continue\r\n\r\n");
  armBodyTimer();
  feedBody();
  flush();
}

void ClientConnection::startTransaction() {
  transaction_ = std::make_unique<Transaction>(worker_, *this, config_, head_);
  transaction_->start();
  flush();
}

void ClientConnection::feedBody() {
  while (body_active_ && !closed_ && !body_paused_) {
    auto step = body_decoder_.decode(input_.readable());
    if (!step.ok()) {
      const http::ParseErrorKind kind = body_decoder_.error().kind;
      worker_.shared().stats().parse_errors[static_cast<size_t>(kind)].fetch_add(
          1, std::memory_order_relaxed);
      body_active_ = false;
      if (body_buffering_) {
        respondError(http::statusForParseError(kind), "Bad request body.\n", false, 0);
      } else {
        abortNow();  // part of the body already went out: only a close is honest now
      }
      return;
    }
    input_.consume(step->consumed);
    if (!step->data.empty()) {
      if (body_buffering_) {
        buffered_body_.append(step->data);
      } else if (transaction_) {
        transaction_->onRequestBody(step->data);
      }
    }
    if (body_buffering_ && (step->done || buffered_body_.size() >= kBufferedBodyBytes)) {
      body_buffering_ = false;
      startTransaction();
      if (closed_ || !transaction_) return;
      std::string body = std::move(buffered_body_);
      buffered_body_.clear();
      transaction_->onRequestBody(body);
      if (closed_ || !transaction_) return;
    }
    if (step->done) {
      body_active_ = false;
      if (transaction_) transaction_->onRequestBodyEnd();
      return;
    }
    if (step->consumed == 0) return;
  }
}

void ClientConnection::pauseBody(bool paused) {
  if (body_paused_ == paused) return;
  body_paused_ = paused;
  updateInterest();
  if (!paused) {
    // Body bytes that arrived before the pause are still buffered: feed them after this event.
    worker_.loop().defer([this, alive = std::weak_ptr<bool>(alive_token_)] {
      if (alive.expired() || closed_ || body_paused_) return;
      if (body_active_) feedBody();
      if (!closed_ && body_active_) readInput();
    });
  }
}

void ClientConnection::respondError(int status, const char* detail, bool count_parse_error,
                                    int parse_kind) {
  if (count_parse_error && parse_kind >= 0 &&
      static_cast<size_t>(parse_kind) < worker_.shared().stats().parse_errors.size()) {
    worker_.shared().stats().parse_errors[static_cast<size_t>(parse_kind)].fetch_add(
        1, std::memory_order_relaxed);
  }
  worker_.shared().stats().countStatus(status);
  std::string out;
  http::appendStatusLine(out, status);
  http::appendDateLine(out, worker_.wallNow());
  const std::string_view body(detail);
  out += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\nConnection: close\r\n\r\n";
  out += body;
  output_.appendOwned(std::move(out));
  closing_ = true;
  flush();
}

void ClientConnection::transactionFinished(bool keep_alive) {
  if (!keep_alive || body_active_) closing_ = true;
  read_event_while_busy_ = false;
  // The transaction may be on the stack: keep it until the next one finishes (the previous
  // one has returned by now).
  retired_transaction_ = std::move(transaction_);
  if (head_copy_.empty()) input_.consume(parser_.headBytes());
  head_copy_.clear();
  parser_.reset();
  head_.clear();
  ++requests_served_;
  flush();
  if (closed_) return;
  updateInterest();
  if (!closing_) {
    header_deadline_armed_ = input_.readableBytes() > 0;
    // Idle time starts once the answer is out: a client still downloading is not idle, however
    // long that takes (the send timeout guards a client that stopped reading). flush() arms the
    // idle timer when the last byte leaves.
    if (header_deadline_armed_ || !want_write_) armHeaderTimer();
    // Pipelined requests already buffered are parsed after this event (not recursively);
    // otherwise reading resumes through the EPOLLIN interest that flush() restored.
    if (input_.readableBytes() > 0 || transport_->hasBufferedInput()) {
      worker_.loop().defer([this, alive = std::weak_ptr<bool>(alive_token_)] {
        if (alive.expired() || closed_) return;
        processInput();
        if (!closed_ && !transaction_) readInput();
      });
    }
  }
}

void ClientConnection::flush() {
  if (closed_) return;
  uint64_t written = 0;
  bool all_out = true;
  // Nothing queued (a hit's answer already left in the flush that queued it): no transport call.
  if (!output_.empty()) {
    uint64_t spliced = 0;
    auto result = output_.flush(*transport_, written, &worker_.splicePipes(), &spliced);
    ProxyStats& stats = worker_.shared().stats();
    stats.client_bytes_out.fetch_add(written, std::memory_order_relaxed);
    if (spliced != 0) stats.client_bytes_spliced.fetch_add(spliced, std::memory_order_relaxed);
    if (!result.ok()) {
      abortNow();
      return;
    }
    all_out = *result;
  }
  want_write_ = !all_out;
  if (all_out && closing_ && !transaction_) {
    finishClose();
    return;
  }
  noteSendProgress(written);
  // Only the write half here: the read half is settled once per event (readInput) or when a
  // transaction ends, so a hit answered within one event costs no epoll_ctl at all.
  if (want_write_ != ((interest_ & EPOLLOUT) != 0)) updateInterest();
}

void ClientConnection::updateInterest() {
  if (closed_) return;
  // RDHUP only while reading: level-triggered, it would otherwise fire on every round while a
  // half-closed client waits for its response.
  uint32_t events = 0;
  const bool reading = !read_eof_ && (!transaction_ || (body_active_ && !body_paused_)) && !closing_;
  if (reading) events |= EPOLLIN | EPOLLRDHUP;
  // While a request without a body is answered nothing is read, but the read interest is
  // dropped lazily: only once the socket reports something. A client that waits for its
  // answer (nearly all: browsers do not pipeline) then costs no epoll_ctl to pause reading and
  // none to resume it, two system calls per miss.
  const bool busy_only = !read_eof_ && !closing_ && transaction_ && !body_active_;
  if (!reading && busy_only && !read_event_while_busy_) events |= interest_ & (EPOLLIN | EPOLLRDHUP);
  if (want_write_) events |= EPOLLOUT;
  // TLS: a handshake read waiting to send, or a write waiting for the handshake's input.
  if (!read_eof_ && transport_->readWaitsForWritable()) events |= EPOLLOUT;
  if (want_write_ && transport_->writeWaitsForReadable() && !read_eof_) events |= EPOLLIN;
  if (events != interest_) {
    interest_ = events;
    worker_.loop().modify(fd_.get(), interest_, this);
  }
}

void ClientConnection::drain() {
  closing_ = true;
  if (!transaction_ && output_.empty()) finishClose();
}

void ClientConnection::abortNow() {
  output_.clear();
  closing_ = true;
  finishClose();
}

void ClientConnection::finishClose() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  send_timer_.cancel();
  body_timer_.cancel();
  net::closeStream(worker_.loop(), *transport_, fd_);
  if (transaction_) {
    transaction_->clientClosed();
    worker_.loop().defer([done = std::shared_ptr<Transaction>(std::move(transaction_))] {});
  }
  alive_token_.reset();
  on_closed_(this);
}

}  // namespace ec::proxy
