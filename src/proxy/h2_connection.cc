#include "proxy/h2_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "base/strings.h"
#include "http/parse_error.h"
#include "http/serializer.h"
#include "proxy/client_connection.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"
#include "tls/tls_transport.h"
#include "tls/tls_transport.h"

namespace ec::proxy {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kDataBudget = 256 * 1024;   // body bytes held ready per stream
constexpr size_t kOutputBudget = 64 * 1024;  // frames serialised ahead of the socket

// A Transport that appends what is written to a string, up to a limit: how a stream takes the
// HTTP/1.1 bytes a transaction queued (OutputQueue writes to a transport).
class StringSink final : public net::Transport {
 public:
  StringSink(std::string& out, size_t limit) : out_(out), limit_(limit) {}
  net::IoResult read(char*, size_t) override { return net::IoResult::error(); }
  net::IoResult writev(const iovec* iov, int count, bool /*more*/ = false) override {
    size_t taken = 0;
    for (int i = 0; i < count && out_.size() < limit_; ++i) {
      const size_t take = std::min(iov[i].iov_len, limit_ - out_.size());
      out_.append(static_cast<const char*>(iov[i].iov_base), take);
      taken += take;
    }
    return taken == 0 ? net::IoResult::blocked() : net::IoResult::of(taken);
  }

 private:
  std::string& out_;
  size_t limit_;
};

bool isConnectionSpecific(std::string_view name) {
  for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                             "upgrade", "te", "trailer"}) {
    if (equalsIgnoreCase(name, n)) return true;
  }
  return false;
}

}  // namespace

// --- H2Stream ---------------------------------------------------------------------------

H2Stream::H2Stream(H2Connection& connection, int32_t id) : connection_(connection), id_(id) {}

H2Stream::~H2Stream() {
  transaction_.reset();
  retired_.reset();
}

const std::string& H2Stream::peerIp() const { return connection_.peerIp(); }
bool H2Stream::closing() const { return connection_.closing(); }
bool H2Stream::secure() const { return connection_.secure(); }

const tls::TlsInfo* H2Stream::tlsInfo() const {
  return connection_.tls() != nullptr ? &connection_.tls()->info() : nullptr;
}

void H2Stream::onHeaders(std::span<const h2::HeaderField> fields, bool end_stream) {
  if (end_stream) {
    startRequest(0, fields);  // the common case: straight from the session's buffer
    return;
  }
  // A body follows. Other methods start at once and stream it to the origin as it arrives;
  // a GET or HEAD keeps the buffered path (bounded, sent with a Content-Length) so that a
  // client sending END_STREAM on an empty DATA frame still gets a cacheable request.
  for (const h2::HeaderField& field : fields) {
    if (field.name != ":method") continue;
    if (field.value != "GET" && field.value != "HEAD") {
      startRequest(std::nullopt, fields);
      return;
    }
    break;
  }
  fields_.assign(fields.begin(), fields.end());  // kept until the body has arrived
}

void H2Stream::onHeadersTooLarge() {
  started_ = true;  // any body that follows is dropped
  respondLocal(431, "Request header fields too large.\n");
}

void H2Stream::onData(std::string_view data) {
  h2::Session& session = connection_.session();
  received_ += data.size();
  if (!started_) {  // a GET or HEAD body: buffered up to kBufferedBodyLimit
    session.consume(id_, data.size());
    const uint64_t limit =
        std::min<uint64_t>(connection_.config().limits.max_body_bytes, kBufferedBodyLimit);
    if (body_.size() + data.size() > limit) {
      body_too_large_ = true;
      return;
    }
    body_.append(data);
    return;
  }
  if (!streaming_ || !transaction_) {  // already answered (413, 421, 431...): dropped
    session.consume(id_, data.size());
    return;
  }
  if (declared_length_ && received_ > *declared_length_) {
    session.consume(id_, data.size());
    refuseBody(false);
    return;
  }
  if (received_ > connection_.config().limits.max_body_bytes) {
    session.consume(id_, data.size());
    refuseBody(true);
    return;
  }
  transaction_->onRequestBody(data);
  // While the origin is behind, the window stays shut: the client can send at most one more
  // window's worth.
  if (body_paused_) unconsumed_ += data.size();
  else session.consume(id_, data.size());
}

void H2Stream::onEnd() {
  if (!started_) {
    startRequest(body_.size(), fields_);
    return;
  }
  if (!streaming_ || !transaction_) return;
  streaming_ = false;
  if (declared_length_ && received_ != *declared_length_) {
    refuseBody(false);
    return;
  }
  transaction_->onRequestBodyEnd();
}

void H2Stream::pauseBody(bool paused) {
  body_paused_ = paused;
  if (paused || unconsumed_ == 0 || detached_) return;
  connection_.session().consume(id_, unconsumed_);
  unconsumed_ = 0;
  connection_.writeSoon();  // the WINDOW_UPDATE
}

void H2Stream::refuseBody(bool too_large) {
  SharedState& shared = connection_.worker().shared();
  if (too_large) {
    shared.stats().h2_bodies_too_large.fetch_add(1, std::memory_order_relaxed);
  } else {
    // RFC 9113 §8.1.1: DATA disagreeing with content-length makes the request malformed.
    shared.stats()
        .h2_downgrade_errors[static_cast<size_t>(h2::DowngradeError::kBadContentLength)]
        .fetch_add(1, std::memory_order_relaxed);
  }
  streaming_ = false;
  output_.clear();
  finished_ = true;
  connection_.session().resetStream(id_, too_large ? NGHTTP2_REFUSED_STREAM : NGHTTP2_PROTOCOL_ERROR);
  connection_.writeSoon();
  if (transaction_) {
    // The origin got part of a body: the exchange is dropped with the transaction.
    connection_.worker().loop().defer([doomed = std::shared_ptr<Transaction>(std::move(transaction_))] {});
  }
}

void H2Stream::startRequest(std::optional<uint64_t> body_length,
                            std::span<const h2::HeaderField> fields) {
  started_ = true;
  SharedState& shared = connection_.worker().shared();
  h2::ConvertedRequest converted;
  const h2::DowngradeError error =
      h2::convertRequest(fields, body_length, converted, /*body_follows=*/!body_length);
  fields_.clear();
  if (error != h2::DowngradeError::kNone) {
    shared.stats().h2_downgrade_errors[static_cast<size_t>(error)].fetch_add(1, std::memory_order_relaxed);
    connection_.session().resetStream(id_, NGHTTP2_PROTOCOL_ERROR);
    connection_.writeSoon();
    return;
  }
  if (body_too_large_) {
    respondLocal(413, "Request body too large.\n");
    return;
  }
  head_bytes_ = std::move(converted.head);
  http::RequestParser parser(connection_.config().limits);
  if (parser.parse(head_bytes_, head_) != http::RequestParser::Status::kDone ||
      parser.headBytes() != head_bytes_.size()) {
    respondLocal(http::statusForParseError(parser.error().kind), "Bad request.\n");
    return;
  }
  if (connection_.secure() && !connection_.certificateCovers(hostOnly(head_.authority))) {
    // RFC 9113 §9.1.1: a coalesced connection asked for a host its certificate does not cover.
    shared.stats().h2_misdirected.fetch_add(1, std::memory_order_relaxed);
    respondLocal(421, "This connection's certificate does not cover that host.\n");
    return;
  }
  if (!body_length) {
    streaming_ = true;
    if (head_.framing == http::BodyFraming::kContentLength) declared_length_ = head_.content_length;
  }
  transaction_ = std::make_unique<Transaction>(connection_.worker(), *this, connection_.configPtr(), head_);
  transaction_->start();
  if (transaction_ && !body_.empty()) {
    std::string body = std::move(body_);
    body_.clear();
    transaction_->onRequestBody(body);
  }
  if (transaction_ && body_length.value_or(0) > 0) transaction_->onRequestBodyEnd();
}

void H2Stream::respondLocal(int status, std::string_view body) {
  connection_.worker().shared().stats().countStatus(status);
  std::string out;
  http::appendStatusLine(out, status);
  out += "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  output_.appendOwned(std::move(out));
  finished_ = true;
  pullResponse();
}

void H2Stream::flush() { pullResponse(); }

void H2Stream::transactionFinished(bool /*keep_alive*/) {
  finished_ = true;
  retired_ = std::move(transaction_);  // it may be on the stack
  pullResponse();
}

void H2Stream::abortNow() {
  output_.clear();
  if (!detached_) {
    connection_.session().resetStream(id_, NGHTTP2_INTERNAL_ERROR);
    connection_.writeSoon();
  }
  finished_ = true;
  if (transaction_) {
    connection_.worker().loop().defer([doomed = std::shared_ptr<Transaction>(std::move(transaction_))] {});
  }
}

void H2Stream::detach() {
  detached_ = true;
  // Bytes held back from the window still count against the connection's.
  connection_.session().consume(id_, unconsumed_);
  unconsumed_ = 0;
  if (transaction_) {
    transaction_->clientClosed();  // the access log still gets its line
    connection_.worker().loop().defer([doomed = std::shared_ptr<Transaction>(std::move(transaction_))] {});
  }
}

bool H2Stream::submitHead() {
  http::ResponseParser parser(connection_.config().limits);
  while (true) {
    const auto status = parser.parse(response_, head_.method, response_head_);
    if (status == http::ResponseParser::Status::kNeedMore) return false;
    if (status == http::ResponseParser::Status::kError) {
      abortNow();
      return false;
    }
    if (response_head_.status >= 200) break;
    response_.erase(0, parser.headBytes());  // 1xx: not forwarded
    parser.reset();
    response_head_.clear();
  }
  // HEADERS straight from the parsed head: values point into response_, lower-cased names
  // into the connection's scratch (sized first, so the pointers stay put); nghttp2 copies
  // both before submitResponse returns.
  const auto& all = response_head_.fields.all();
  size_t name_bytes = 0;
  for (const http::Field& field : all) name_bytes += field.name.size();
  std::string& names = connection_.headNames();
  names.resize(name_bytes);
  std::vector<nghttp2_nv>& pairs = connection_.headPairs();
  pairs.clear();
  const int code = response_head_.status;
  char status[3] = {static_cast<char>('0' + code / 100 % 10), static_cast<char>('0' + code / 10 % 10),
                    static_cast<char>('0' + code % 10)};
  static constexpr char kStatus[] = ":status";
  pairs.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(kStatus)),
                   reinterpret_cast<uint8_t*>(status), sizeof kStatus - 1, sizeof status,
                   NGHTTP2_NV_FLAG_NONE});
  size_t at = 0;
  for (const http::Field& field : all) {
    if (isConnectionSpecific(field.name)) continue;
    char* name = names.data() + at;
    for (size_t i = 0; i < field.name.size(); ++i) {
      const char c = field.name[i];
      name[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    at += field.name.size();
    pairs.push_back({reinterpret_cast<uint8_t*>(name),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(field.value.data())),
                     field.name.size(), field.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  switch (response_head_.framing) {
    case http::BodyFraming::kChunked:
      decoder_.start(http::BodyFraming::kChunked, 0, connection_.config().limits, false);
      has_body_ = true;
      break;
    case http::BodyFraming::kContentLength:
      remaining_ = response_head_.content_length;
      has_body_ = remaining_ > 0;
      break;
    case http::BodyFraming::kCloseDelimited:
      has_body_ = true;
      break;
    default:
      has_body_ = false;
      break;
  }
  if (!has_body_) body_done_ = true;
  head_submitted_ = true;
  if (!detached_) connection_.session().submitResponse(id_, pairs.data(), pairs.size(), has_body_);
  response_.erase(0, parser.headBytes());  // after: the values pointed into it
  return true;
}

void H2Stream::pullResponse() {
  if (detached_) return;
  // Take the transaction's HTTP/1.1 bytes, no more than the stream holds ready.
  while (!output_.empty() && response_.size() + data_.size() < kDataBudget) {
    StringSink sink(response_, kDataBudget - data_.size());
    uint64_t written = 0;
    if (!output_.flush(sink, written).ok() || written == 0) break;
  }
  if (!head_submitted_ && !submitHead()) {
    if (finished_ && output_.empty() && !head_submitted_ && !detached_) abortNow();
    connection_.writeSoon();
    return;
  }
  if (!body_done_ && !response_.empty()) {
    switch (response_head_.framing) {
      case http::BodyFraming::kChunked: {
        auto step = decoder_.decode(response_);
        if (!step.ok()) {
          abortNow();
          return;
        }
        data_.append(step->data);
        response_.erase(0, step->consumed);
        if (step->done) body_done_ = true;
        break;
      }
      case http::BodyFraming::kContentLength: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, response_.size()));
        data_.append(response_, 0, take);
        response_.erase(0, take);
        remaining_ -= take;
        if (remaining_ == 0) body_done_ = true;
        break;
      }
      default:
        data_.append(response_);
        response_.clear();
        break;
    }
  }
  if (!body_done_ && finished_ && output_.empty() && response_.empty()) {
    if (response_head_.framing == http::BodyFraming::kCloseDelimited) body_done_ = true;
    else abortNow();  // the transaction ended short of its own framing
  }
  if (deferred_ && (!data_.empty() || body_done_)) {
    deferred_ = false;
    connection_.session().resumeData(id_);
  }
  connection_.writeSoon();
}

long H2Stream::readBody(uint8_t* buffer, size_t length, bool& eof) {
  if (data_.empty() && !body_done_) {
    deferred_ = true;
    connection_.worker().loop().defer([this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired() || detached_) return;
      pullResponse();
      if (transaction_ && output_.queuedBytes() < ClientConnection::kHighWatermark) {
        transaction_->onWritable();
      }
    });
    return -1;
  }
  const size_t n = std::min(length, data_.size());
  std::memcpy(buffer, data_.data(), n);
  data_.erase(0, n);
  eof = data_.empty() && body_done_;
  if (!body_done_ && data_.size() < kDataBudget / 4 && !refill_pending_) {
    refill_pending_ = true;
    connection_.worker().loop().defer([this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired() || detached_) return;
      refill_pending_ = false;
      pullResponse();
      if (transaction_ && output_.queuedBytes() < ClientConnection::kHighWatermark) {
        transaction_->onWritable();
      }
    });
  }
  return static_cast<long>(n);
}

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
      config_(worker.shared().config()),
      session_(*this, config_->h2_limits, [this] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   worker_.loop().now().time_since_epoch()).count();
      }) {}

H2Connection::~H2Connection() {
  retired_.clear();
  streams_.clear();
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

bool H2Connection::certificateCovers(std::string_view host) const {
  return tls_ == nullptr || tls_->certificateCovers(host);
}

void H2Connection::armIdleTimer() {
  timer_.arm(worker_.loop(), worker_.loop().now() + config_->idle_timeout, [this] {
    if (closed_ || !streams_.empty()) return;
    session_.shutdown();
    closing_ = true;
    writeOutput();
  });
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

void H2Connection::writeOutput() {
  if (closed_) return;
  while (true) {
    if (out_.empty()) session_.takeOutput(out_, kOutputBudget);
    if (out_.empty()) break;
    iovec iov{out_.data(), out_.size()};
    const net::IoResult io = transport_->writev(&iov, 1);
    if (io.kind == net::IoResult::Kind::kBlocked) break;
    if (io.kind != net::IoResult::Kind::kBytes) {
      finishClose();
      return;
    }
    worker_.shared().stats().client_bytes_out.fetch_add(io.bytes, std::memory_order_relaxed);
    out_.erase(0, io.bytes);
  }
  const bool idle = out_.empty() && !session_.wantsWrite();
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
  if (!out_.empty() || transport_->readWaitsForWritable()) events |= EPOLLOUT;
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
  net::closeStream(worker_.loop(), *transport_, fd_);
  for (auto& [id, stream] : streams_) {
    stream->detach();
    worker_.loop().defer([doomed = std::shared_ptr<H2Stream>(std::move(stream))] {});
  }
  streams_.clear();
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
  config_ = worker_.shared().config();
  auto [it, inserted] = streams_.emplace(stream, std::make_unique<H2Stream>(*this, stream));
  if (!inserted) return;
  it->second->onHeaders(fields, end_stream);
}

void H2Connection::onRequestHeadersTooLarge(int32_t stream, bool /*end_stream*/) {
  worker_.shared().stats().h2_header_lists_too_large.fetch_add(1, std::memory_order_relaxed);
  if (worker_.shared().draining()) {
    session_.resetStream(stream, NGHTTP2_REFUSED_STREAM);
    return;
  }
  worker_.shared().stats().h2_streams.fetch_add(1, std::memory_order_relaxed);
  timer_.cancel();
  auto [it, inserted] = streams_.emplace(stream, std::make_unique<H2Stream>(*this, stream));
  if (!inserted) return;
  it->second->onHeadersTooLarge();
}

void H2Connection::onRequestData(int32_t stream, std::string_view data) {
  if (auto it = streams_.find(stream); it != streams_.end()) it->second->onData(data);
  else session_.consume(stream, data.size());  // a stream refused or gone: dropped
}

void H2Connection::onRequestEnd(int32_t stream) {
  if (auto it = streams_.find(stream); it != streams_.end()) it->second->onEnd();
}

void H2Connection::onStreamClosed(int32_t stream, uint32_t /*error_code*/) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  it->second->detach();
  // Deleted after this event: the stream may be on the stack (a callback inside mem_send).
  retired_.push_back(std::move(it->second));
  streams_.erase(it);
  if (!reap_scheduled_) {
    reap_scheduled_ = true;
    worker_.loop().defer([this, alive = std::weak_ptr<bool>(alive_token_)] {
      if (alive.expired()) return;  // closed: the destructor deletes them
      reap_scheduled_ = false;
      retired_.clear();  // keeps its capacity for the next batch
    });
  }
  if (streams_.empty()) {
    if (worker_.shared().draining()) closing_ = true;
    armIdleTimer();
  }
}

long H2Connection::readResponseBody(int32_t stream, uint8_t* buffer, size_t length, bool& eof) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) {
    eof = true;
    return 0;
  }
  return it->second->readBody(buffer, length, eof);
}

void H2Connection::onCalm(h2::CalmReason reason) {
  worker_.shared().stats().h2_calm[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  closing_ = true;
}

void H2Connection::onMalformed() {
  worker_.shared().stats().h2_malformed.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace ec::proxy
