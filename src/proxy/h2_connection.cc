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
constexpr size_t kDataBudget = 256 * 1024;   // body bytes held ready per stream, at most
// ... and at least, whatever the connection holds (http2.max_response_buffer): every stream
// can make progress without waiting for another stream's client to read.
constexpr size_t kDataFloor = 16 * 1024;
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
  switch (name.size()) {  // by length first: most names are none of these
    case 2: return equalsIgnoreCase(name, "te");
    case 7: return equalsIgnoreCase(name, "upgrade") || equalsIgnoreCase(name, "trailer");
    case 10: return equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive");
    case 16: return equalsIgnoreCase(name, "proxy-connection");
    case 17: return equalsIgnoreCase(name, "transfer-encoding");
    default: return false;
  }
}

}  // namespace

// --- H2Stream ---------------------------------------------------------------------------

H2Stream::H2Stream(H2Connection& connection, int32_t id) : connection_(connection), id_(id) {}

H2Stream::~H2Stream() {
  transaction_.reset();
  retired_.reset();
}

void H2Stream::recycle() {
  transaction_.reset();
  retired_.reset();
  output_.clear();  // object references go now
  // Keep what a small response needs; a large one's buffers go back to the allocator.
  for (std::string* buffer : {&body_, &response_, &data_}) {
    if (buffer->capacity() > kKeptBufferBytes) std::string().swap(*buffer);
    else buffer->clear();
  }
  fields_.clear();
  converted_.head.clear();
  head_.clear();
  response_head_.clear();
}

void H2Stream::reuse(int32_t id) {
  id_ = id;
  framing_ = http::BodyFraming::kNone;
  body_too_large_ = started_ = streaming_ = body_paused_ = false;
  received_ = unconsumed_ = remaining_ = 0;
  declared_length_.reset();
  data_at_ = 0;
  head_submitted_ = has_body_ = finished_ = body_done_ = deferred_ = detached_ = false;
  refill_pending_ = false;
  held_ = 0;
  sent_ = 0;
  send_watch_.reset();
  send_timed_out_ = false;
}

const std::string& H2Stream::peerIp() const { return connection_.peerIp(); }
bool H2Stream::closing() const { return connection_.closing(); }
bool H2Stream::secure() const { return connection_.secure(); }

uint64_t H2Stream::outputHighWatermark() const {
  // pullResponse() moves queued bytes into the stream's own buffers at once, up to its share
  // of http2.max_response_buffer; only past that do they stay queued, and then a pass-through
  // origin is paused after this much more.
  return kDataFloor;
}

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
  const h2::DowngradeError error =
      h2::convertRequest(fields, body_length, converted_, /*body_follows=*/!body_length);
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
  http::RequestParser& parser = connection_.requestParser();
  if (parser.parse(converted_.head, head_) != http::RequestParser::Status::kDone ||
      parser.headBytes() != converted_.head.size()) {
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
  connection_.noteHeld(held_, 0);  // recycle() or the destructor frees the bytes
  held_ = 0;
  detached_ = true;
  // Bytes held back from the window still count against the connection's.
  connection_.session().consume(id_, unconsumed_);
  unconsumed_ = 0;
  if (transaction_) {
    transaction_->clientClosed();  // the access log still gets its line
    connection_.worker().loop().defer([doomed = std::shared_ptr<Transaction>(std::move(transaction_))] {});
  }
}

namespace {

constexpr std::array<char, 256> kLower = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return table;
}();

// ASCII lower-casing eight bytes at a time (names are mostly 4-20 bytes).
void lowerInto(char* out, std::string_view name) {
  size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, name.data() + i, 8);
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    const uint64_t low7 = word & (kOnes * 0x7f);                 // no carry between bytes below
    const uint64_t at_least_a = low7 + kOnes * (0x80 - 'A');     // high bit: byte >= 'A'
    const uint64_t past_z = low7 + kOnes * (0x80 - 'Z' - 1);     // high bit: byte > 'Z'
    const uint64_t upper = at_least_a & ~past_z & ~word & (kOnes * 0x80);  // ASCII A-Z only
    word |= upper >> 2;                                            // 0x80 >> 2 = 0x20
    std::memcpy(out + i, &word, 8);
  }
  for (; i < name.size(); ++i) out[i] = kLower[static_cast<unsigned char>(name[i])];
}

bool parseDigits(std::string_view text, uint64_t& value) {
  if (text.empty() || text.size() > 15) return false;
  value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

}  // namespace

int H2Stream::submitOwnHead() {
  // The proxy's own heads (http/serializer and the deliver phase): "HTTP/1.1 200 OK", then
  // "Name: value" lines, CRLF endings. Anything else goes to the full parser.
  const std::string_view text = response_;
  std::vector<nghttp2_nv>& pairs = connection_.headPairs();
  static constexpr char kStatus[] = ":status";
  H2Connection::OwnHeadMemo& memo = connection_.ownHeadMemo();
  if (!memo.text.empty() && text.size() >= memo.text.size() &&
      std::memcmp(text.data(), memo.text.data(), memo.text.size()) == 0) {
    // The same head bytes as the last one this connection scanned (hits on one object): the
    // same pairs, values pointing into this response's copy of them.
    pairs.clear();
    std::memcpy(status_digits_, memo.text.data() + 9, 3);
    pairs.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(kStatus)),
                     reinterpret_cast<uint8_t*>(status_digits_), sizeof kStatus - 1, 3,
                     NGHTTP2_NV_FLAG_NONE});
    char* const names = memo.names.data();
    char* const values = const_cast<char*>(text.data());
    for (const H2Connection::OwnHeadMemo::Line& line : memo.lines) {
      pairs.push_back({reinterpret_cast<uint8_t*>(names + line.name_at),
                       reinterpret_cast<uint8_t*>(values + line.value_at), line.name_size,
                       line.value_size, NGHTTP2_NV_FLAG_NONE});
    }
    frameOwnHead(memo.code, memo.has_length, memo.length);
    submitPairs(memo.text.size());
    return 1;
  }
  if (text.size() < 16 || text.compare(0, 9, "HTTP/1.1 ") != 0) return text.size() < 16 ? -1 : 0;
  const char* digits = text.data() + 9;
  for (int i = 0; i < 3; ++i) {
    if (digits[i] < '0' || digits[i] > '9') return 0;
  }
  const int code = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0');
  if (code < 200 || code > 999 || digits[3] != ' ') return 0;
  const void* first_end = std::memchr(text.data(), '\n', text.size());
  if (first_end == nullptr) return -1;
  size_t at = static_cast<size_t>(static_cast<const char*>(first_end) - text.data()) + 1;

  // Lower-cased names go to the memo's scratch, sized once (the names are part of the text,
  // which may carry a body too: capped), so the pointers into it stay put and no line pays
  // for growing it. Names beyond the cap, rare, take the parser's path.
  constexpr size_t kNamesCap = 4096;
  memo.text.clear();  // valid again only once this head is scanned whole
  memo.lines.clear();
  std::string& names = memo.names;
  names.resize(std::min(text.size(), kNamesCap));
  size_t names_used = 0;
  pairs.clear();
  status_digits_[0] = digits[0];
  status_digits_[1] = digits[1];
  status_digits_[2] = digits[2];
  pairs.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(kStatus)),
                   reinterpret_cast<uint8_t*>(status_digits_), sizeof kStatus - 1, 3,
                   NGHTTP2_NV_FLAG_NONE});
  bool has_length = false;
  uint64_t length = 0;
  size_t head_bytes = 0;
  while (true) {
    if (at + 2 > text.size()) return -1;
    if (text[at] == '\r' && text[at + 1] == '\n') {
      head_bytes = at + 2;
      break;
    }
    const void* nl = std::memchr(text.data() + at, '\n', text.size() - at);
    if (nl == nullptr) return -1;
    const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - text.data());
    if (text[end - 1] != '\r') return 0;
    const std::string_view line = text.substr(at, end - 1 - at);
    at = end + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return 0;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (name.size() == 14 && equalsIgnoreCase(name, "content-length")) {
      if (has_length || !parseDigits(value, length)) return 0;
      has_length = true;
    } else if (name.size() == 17 && equalsIgnoreCase(name, "transfer-encoding")) {
      return 0;  // chunked: the parser's path sets up the decoder
    } else if (isConnectionSpecific(name)) {
      continue;
    }
    if (name.size() > names.size() - names_used) return 0;
    char* lower = names.data() + names_used;
    // No whitespace check: the names were validated where they came from (our own
    // serializer, or the response parser for an origin's head).
    lowerInto(lower, name);
    pairs.push_back({reinterpret_cast<uint8_t*>(lower),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                     value.size(), NGHTTP2_NV_FLAG_NONE});
    memo.lines.push_back({static_cast<uint32_t>(names_used), static_cast<uint32_t>(name.size()),
                          static_cast<uint32_t>(value.data() - text.data()),
                          static_cast<uint32_t>(value.size())});
    names_used += name.size();
  }
  // Everything above depends on these bytes only: the next head with the same bytes reuses it.
  memo.text.assign(text.data(), head_bytes);
  memo.code = code;
  memo.has_length = has_length;
  memo.length = length;
  frameOwnHead(code, has_length, length);
  submitPairs(head_bytes);
  return 1;
}

void H2Stream::frameOwnHead(int code, bool has_length, uint64_t length) {
  // Framing as RFC 9112 §6.3 gives it for these heads: no body for HEAD, 204 and 304;
  // Content-Length; otherwise the body runs to the end of the transaction's output.
  if (head_.method == http::Method::kHead || code == 204 || code == 304) {
    framing_ = http::BodyFraming::kNone;
    has_body_ = false;
  } else if (has_length) {
    framing_ = http::BodyFraming::kContentLength;
    remaining_ = length;
    has_body_ = length > 0;
  } else {
    framing_ = http::BodyFraming::kCloseDelimited;
    has_body_ = true;
  }
}

void H2Stream::submitPairs(size_t head_bytes) {
  if (!has_body_) body_done_ = true;
  head_submitted_ = true;
  std::vector<nghttp2_nv>& pairs = connection_.headPairs();
  if (!detached_) connection_.session().submitResponse(id_, pairs.data(), pairs.size(), has_body_);
  // After submitting: the values pointed into response_. A body that is all there (and the
  // stream holds nothing yet) becomes data_ without a copy; data_at_ skips the head.
  if (data_.empty() && framing_ == http::BodyFraming::kContentLength &&
      response_.size() - head_bytes <= remaining_) {
    data_.swap(response_);
    data_at_ = head_bytes;
    remaining_ -= data_.size() - head_bytes;
    if (remaining_ == 0) body_done_ = true;
    return;
  }
  response_.erase(0, head_bytes);
}

bool H2Stream::submitHead() {
  const int own = submitOwnHead();
  if (own > 0) return true;
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
  status_digits_[0] = static_cast<char>('0' + code / 100 % 10);
  status_digits_[1] = static_cast<char>('0' + code / 10 % 10);
  status_digits_[2] = static_cast<char>('0' + code % 10);
  static constexpr char kStatus[] = ":status";
  pairs.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(kStatus)),
                   reinterpret_cast<uint8_t*>(status_digits_), sizeof kStatus - 1, 3,
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
  framing_ = response_head_.framing;
  switch (framing_) {
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
  submitPairs(parser.headBytes());
  return true;
}

void H2Stream::account() {
  if (detached_) return;
  const size_t now = response_.size() + dataLeft();
  if (now == held_) return;
  connection_.noteHeld(held_, now);
  held_ = now;
}

bool H2Stream::waitsForClientWindow() {
  return !detached_ && !send_timed_out_ && head_submitted_ && dataLeft() > 0;
}

bool H2Stream::sendStalled() {
  const bool waiting =
      waitsForClientWindow() && connection_.session().streamSendWindow(id_) <= 0;
  if (!send_watch_.check(waiting, sent_)) return false;
  send_timed_out_ = true;
  return true;
}

void H2Stream::pullResponse() {
  if (detached_) return;
  account();
  // Take the transaction's HTTP/1.1 bytes, no more than the stream may hold ready: its share
  // of http2.max_response_buffer, between kDataFloor and kDataBudget.
  const size_t allowance = h2::responseAllowance(held_, connection_.held(),
                                                 connection_.config().h2_response_buffer,
                                                 kDataFloor, kDataBudget);
  while (!output_.empty() && response_.size() + dataLeft() < allowance) {
    StringSink sink(response_, allowance - dataLeft());
    uint64_t written = 0;
    if (!output_.flush(sink, written).ok() || written == 0) break;
  }
  if (allowance < kDataBudget && !output_.empty() && response_.size() + dataLeft() >= allowance) {
    connection_.worker().shared().stats().h2_response_buffer_full.fetch_add(
        1, std::memory_order_relaxed);
  }
  convertResponse();
  account();
}

void H2Stream::convertResponse() {
  if (!head_submitted_ && !submitHead()) {
    if (finished_ && output_.empty() && !head_submitted_ && !detached_) abortNow();
    connection_.writeSoon();
    return;
  }
  if (!body_done_ && !response_.empty()) {
    if (data_at_ == data_.size()) {
      data_.clear();
      data_at_ = 0;
    }
    switch (framing_) {
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
    if (framing_ == http::BodyFraming::kCloseDelimited) body_done_ = true;
    else abortNow();  // the transaction ended short of its own framing
  }
  if (deferred_ && (dataLeft() > 0 || body_done_)) {
    deferred_ = false;
    connection_.session().resumeData(id_);
  }
  connection_.writeSoon();
}

void H2Stream::refill() {
  if (detached_) return;
  refill_pending_ = false;
  pullResponse();
  if (transaction_ && output_.queuedBytes() < outputHighWatermark()) {
    transaction_->onWritable();
  }
}

long H2Stream::readBody(uint8_t* buffer, size_t length, bool& eof) {
  if (dataLeft() == 0 && !body_done_) {
    deferred_ = true;
    if (!refill_pending_) {
      refill_pending_ = true;
      connection_.refillSoon(id_);
    }
    return -1;
  }
  const size_t n = std::min(length, dataLeft());
  std::memcpy(buffer, data_.data() + data_at_, n);
  data_at_ += n;
  if (data_at_ == data_.size()) {
    data_.clear();
    data_at_ = 0;
  }
  sent_ += n;
  connection_.noteSent(n);
  account();
  eof = dataLeft() == 0 && body_done_;
  if (!body_done_ && dataLeft() < kDataBudget / 4 && !refill_pending_) {
    refill_pending_ = true;
    connection_.refillSoon(id_);
  }
  return static_cast<long>(n);
}

// --- StreamTable ------------------------------------------------------------------------

size_t StreamTable::locate(int32_t id) const {
  auto it = std::lower_bound(entries_.begin() + static_cast<std::ptrdiff_t>(front_), entries_.end(), id,
                             [](const Entry& entry, int32_t key) { return entry.first < key; });
  return static_cast<size_t>(it - entries_.begin());
}

H2Stream* StreamTable::find(int32_t id) const {
  const size_t at = locate(id);
  return at < entries_.size() && entries_[at].first == id ? entries_[at].second.get() : nullptr;
}

bool StreamTable::insert(int32_t id, std::unique_ptr<H2Stream> stream) {
  if (!entries_.empty() && entries_.back().first >= id) {
    // Not in order (nghttp2 refuses lower ids, so only a reopened slot): insert sorted.
    const size_t at = locate(id);
    if (at < entries_.size() && entries_[at].first == id) {
      if (entries_[at].second) return false;
      entries_[at].second = std::move(stream);
    } else {
      entries_.emplace(entries_.begin() + static_cast<std::ptrdiff_t>(at), id, std::move(stream));
    }
  } else {
    entries_.emplace_back(id, std::move(stream));
  }
  ++count_;
  return true;
}

std::unique_ptr<H2Stream> StreamTable::take(int32_t id) {
  const size_t at = locate(id);
  if (at >= entries_.size() || entries_[at].first != id || !entries_[at].second) return nullptr;
  std::unique_ptr<H2Stream> stream = std::move(entries_[at].second);
  --count_;
  while (front_ < entries_.size() && !entries_[front_].second) ++front_;
  if (front_ == entries_.size()) {
    entries_.clear();  // keeps the capacity
    front_ = 0;
  } else if (front_ >= 64 && front_ * 2 >= entries_.size()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(front_));
    front_ = 0;
  }
  return stream;
}

std::vector<std::unique_ptr<H2Stream>> StreamTable::takeAll() {
  std::vector<std::unique_ptr<H2Stream>> all;
  for (Entry& entry : entries_) {
    if (entry.second) all.push_back(std::move(entry.second));
  }
  entries_.clear();
  front_ = count_ = 0;
  return all;
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

bool H2Connection::certificateCovers(std::string_view host) {
  if (tls_ == nullptr) return true;
  // The certificate is the connection's for its life: a client asking for the same host
  // again (the usual case) gets the last answer.
  if (covered_known_ && host == covered_host_) return covered_;
  covered_ = tls_->certificateCovers(host);
  covered_host_.assign(host);
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
  const Millis period = std::max(Millis{1}, config_->send_timeout / h2::SendWatch::kChecksPerTimeout);
  send_timer_.arm(worker_.loop(), worker_.loop().now() + period, [this] { checkSendProgress(); });
}

void H2Connection::checkSendProgress() {
  if (closed_) return;
  // The connection: frames wait for the socket, or response bytes for the client's windows,
  // and nothing moved (DATA handed to frames, or the socket taking frames that carry DATA).
  bool data_waiting = false;
  streams_.forEach([&data_waiting](H2Stream& stream) {
    if (!data_waiting && stream.waitsForClientWindow()) data_waiting = true;
  });
  const bool out_waiting = out_at_ < out_.size();
  if (send_watch_.check(out_waiting || data_waiting, sent_progress_)) {
    endStalled();
    return;
  }
  // A stream whose own window stays shut while the connection moves: reset, so one stuck
  // stream cannot pin its transaction and object forever on a busy connection.
  bool reset = false;
  streams_.forEach([this, &reset](H2Stream& stream) {
    if (!stream.sendStalled()) return;
    worker_.shared().stats().h2_stream_send_timeouts.fetch_add(1, std::memory_order_relaxed);
    EC_LOG_EVERY_SECOND(LogLevel::kWarning,
                        "http2: client %s kept stream %d's window shut for limits.send_timeout "
                        "(%lld ms): stream reset (CANCEL)",
                        peer_ip_.c_str(), stream.id(),
                        static_cast<long long>(config_->send_timeout.count()));
    session_.resetStream(stream.id(), NGHTTP2_CANCEL);
    reset = true;
  });
  if (reset) writeSoon();
  if (!streams_.empty() || out_at_ < out_.size()) {
    armSendTimer();
  } else {
    send_watch_.reset(sent_progress_);
  }
}

void H2Connection::endStalled() {
  worker_.shared().stats().h2_send_timeouts.fetch_add(1, std::memory_order_relaxed);
  EC_LOG_EVERY_SECOND(LogLevel::kWarning,
                      "http2: client %s took no response bytes for limits.send_timeout (%lld ms) "
                      "with %zu streams open: connection closed",
                      peer_ip_.c_str(), static_cast<long long>(config_->send_timeout.count()),
                      streams_.size());
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
    (void)transport_->writev(&iov, 1);
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

http::RequestParser& H2Connection::requestParser() {
  if (!request_parser_ || parser_config_ != config_) {
    parser_config_ = config_;
    request_parser_.emplace(config_->limits);
  } else {
    request_parser_->reset();
  }
  return *request_parser_;
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
