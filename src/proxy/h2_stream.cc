// H2Stream (one request/response exchange on an HTTP/2 connection: the downgrade to a
// Transaction, the response head and body framed for nghttp2) and StreamTable; the connection
// itself is in h2_connection.cc.
#include "proxy/h2_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "http/date.h"
#include "http/parse_error.h"
#include "http/serializer.h"
#include "proxy/client_connection.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"
#include "tls/tls_transport.h"

namespace ec::proxy {
namespace {

constexpr size_t kDataBudget = 256 * 1024;   // body bytes held ready per stream, at most
// ... and at least, whatever the connection holds (http2.max_response_buffer): every stream
// can make progress without waiting for another stream's client to read.
constexpr size_t kDataFloor = 16 * 1024;

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
  for (std::string* buffer : {&body_, &response_, &data_, &request_bytes_, &request_text_}) {
    if (buffer->capacity() > kKeptBufferBytes) std::string().swap(*buffer);
    else buffer->clear();
  }
  fields_.clear();
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
  body_watch_.reset();
  body_timed_out_ = reset_after_answer_ = false;
}

std::string_view H2Stream::rawHead() const {
  // Only a fetch from the origin reads it (a miss, a revalidation): a hit never pays for it.
  if (request_text_.empty()) h2::appendRequestText(head_, request_text_);
  return request_text_;
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
  // The HTTP/2 fields straight into head_ with every check of the downgrade and of the strict
  // HTTP/1.1 parser (h2/request_conversion.h); the HTTP/1.1 text only if a fetch needs it.
  http::ParseError parse_error;
  const h2::DowngradeError error =
      h2::buildRequestHead(fields, body_length, /*body_follows=*/!body_length,
                           connection_.config().limits, request_bytes_, head_, parse_error);
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
  if (parse_error.kind != http::ParseErrorKind::kNone) {
    // Counted by kind as over HTTP/1.1 (limits.* documents edgecache_parse_errors_total).
    shared.stats().parse_errors[static_cast<size_t>(parse_error.kind)].fetch_add(1, std::memory_order_relaxed);
    respondLocal(http::statusForParseError(parse_error.kind), "Bad request.\n");
    return;
  }
  if (connection_.secure() && !connection_.certificateCovers(head_.authority)) {
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
  http::appendDateLine(out, connection_.worker().wallNow());
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

h2::ProgressWatch::Verdict H2Stream::sendStalled(int64_t now_ms) {
  const bool waiting =
      waitsForClientWindow() && connection_.session().streamSendWindow(id_) <= 0;
  const RuntimeConfig& config = connection_.config();
  const int64_t timeout_ms = config.send_timeout.count();
  const h2::ProgressWatch::Verdict verdict = send_watch_.check(
      now_ms, waiting, sent_, timeout_ms, h2::ProgressWatch::minBytes(config.min_send_rate, timeout_ms));
  if (verdict != h2::ProgressWatch::Verdict::kFine) send_timed_out_ = true;
  return verdict;
}

bool H2Stream::bodyStalled(int64_t now_ms) {
  if (detached_) return false;
  if (body_timed_out_) {
    // The 408 is framed (its last DATA handed to nghttp2): ask the client to stop sending the
    // rest of its body (RFC 9113 §8.1), which also frees the stream's slot.
    if (reset_after_answer_ && body_done_ && dataLeft() == 0) {
      reset_after_answer_ = false;
      connection_.session().resetStream(id_, NGHTTP2_NO_ERROR);
      connection_.writeSoon();
    }
    return false;
  }
  // Waiting for the client's DATA: a GET or HEAD whose body is still buffered (the request
  // starts at END_STREAM), or a streamed body the origin is not holding back.
  const bool waiting = !started_ || (streaming_ && transaction_ && !body_paused_);
  const RuntimeConfig& config = connection_.config();
  const int64_t timeout_ms = config.body_timeout.count();
  if (body_watch_.check(now_ms, waiting, received_, timeout_ms,
                        h2::ProgressWatch::minBytes(config.min_body_rate, timeout_ms)) ==
      h2::ProgressWatch::Verdict::kFine) {
    return false;
  }
  body_timed_out_ = true;
  started_ = true;  // DATA that still comes is dropped (onData)
  streaming_ = false;
  if (transaction_) {
    // The origin got part of a body: the exchange is dropped with the transaction.
    transaction_->clientClosed();
    connection_.worker().loop().defer([doomed = std::shared_ptr<Transaction>(std::move(transaction_))] {});
  }
  if (!head_submitted_ && response_.empty() && output_.empty()) {
    reset_after_answer_ = true;
    finished_ = false;
    respondLocal(408, "Request body timeout.\n");
  } else {
    // An answer has begun: only a reset is honest now.
    output_.clear();
    finished_ = true;
    connection_.session().resetStream(id_, NGHTTP2_CANCEL);
    connection_.writeSoon();
  }
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

}  // namespace ec::proxy
